// The "Add a node" dialog of the fleet page: the one line that installs the agent on a Pi, with
// this hub's address (as the browser reaches it), the node name typed in and its token, which an
// admin creates here (POST /api/enrolments, with the tags typed in) or with `remonitor node add NAME`.
import type { ApiError } from '../../shared/api-types.ts';
import type { EnrolmentResponse } from '../../shared/api-types.ts';
import { splitTags, tagListProblems } from '../../protocol/info.ts';
import { csrfHeaders } from './api.ts';

/** The join line; the name and token are shell-quoted only when they need it. */
export function joinLine(origin: string, node: string, token: string): string {
  const q = (s: string) => (/^[A-Za-z0-9._:/=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const args = [`--node ${q(node || 'NAME')}`];
  // An open (--insecure) hub needs no token: an empty field leaves the flag out.
  if (token) args.push(`--token ${q(token)}`);
  return `curl -fsSL ${origin}/install.sh | sh -s -- ${args.join(' ')}`;
}

export function setupAddNode(): void {
  const button = document.getElementById('add-node-button');
  const dialog = document.getElementById('add-node') as HTMLDialogElement | null;
  if (!button || !dialog) return;
  const name = dialog.querySelector<HTMLInputElement>('#add-node-name')!;
  const token = dialog.querySelector<HTMLInputElement>('#add-node-token')!;
  const tags = dialog.querySelector<HTMLInputElement>('#add-node-tags');
  const line = dialog.querySelector<HTMLElement>('#add-node-line')!;
  const copy = dialog.querySelector<HTMLButtonElement>('#add-node-copy')!;
  const loopback = dialog.querySelector<HTMLElement>('#add-node-loopback');
  // The line carries the address this page was opened with; another machine cannot use localhost.
  if (loopback) loopback.hidden = !/^(localhost|127\.|\[::1\])/.test(location.hostname);
  const update = () => {
    line.textContent = joinLine(location.origin, name.value.trim(), token.value.trim());
    name.setCustomValidity(name.value === '' || /^[A-Za-z0-9._-]{1,64}$/.test(name.value) ? '' : 'allowed are A-Z a-z 0-9 . _ - (at most 64)');
    tags?.setCustomValidity(tagListProblems(splitTags(tags.value)).join('; '));
  };
  tags?.addEventListener('input', update);
  name.addEventListener('input', update);
  token.addEventListener('input', update);
  const enrol = dialog.querySelector<HTMLButtonElement>('#add-node-enrol');
  const enrolResult = dialog.querySelector<HTMLElement>('#add-node-enrol-result');
  enrol?.addEventListener('click', async () => {
    if (!enrolResult) return;
    if (!name.reportValidity() || name.value.trim() === '') {
      enrolResult.textContent = 'type the node name first';
      return;
    }
    if (tags && !tags.reportValidity()) {
      enrolResult.textContent = tags.validationMessage;
      return;
    }
    enrolResult.textContent = '…';
    const res = await fetch('/api/enrolments', {
      method: 'POST',
      headers: csrfHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ node: name.value.trim(), tags: splitTags(tags?.value ?? '') }),
    }).catch(() => null);
    if (res?.status === 201) {
      const created = (await res.json()) as EnrolmentResponse;
      token.value = created.token;
      enrolResult.textContent = `token created${created.tags?.length ? ` (tags ${created.tags.join(', ')})` : ''}: it is shown only now, copy the line`;
      update();
      return;
    }
    const error = res ? ((await res.json().catch(() => ({}))) as Partial<ApiError>).error : undefined;
    enrolResult.textContent =
      res?.status === 404
        ? 'this hub does not run the broker its nodes use: create the token there (remonitor node add NAME)'
        : (error ?? 'cannot reach the hub');
  });
  button.addEventListener('click', () => {
    update();
    dialog.showModal();
    name.focus();
  });
  copy.addEventListener('click', () => {
    const text = line.textContent ?? '';
    // The clipboard API needs a secure context (https or localhost); otherwise select the text.
    const selectIt = () => getSelection()?.selectAllChildren(line);
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(() => (copy.textContent = 'Copied'), selectIt);
    } else selectIt();
  });
  dialog.addEventListener('close', () => (copy.textContent = 'Copy'));
  update();
}
