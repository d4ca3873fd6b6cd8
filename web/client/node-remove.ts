// The node page's "Remove node…" button, for admins (and on an open hub): a dialog that removes the
// node keeping its data (export still reads it) or purging it (DELETE /api/nodes/:node[?purge=1]),
// then goes back to the fleet page.
import { csrfHeaders } from './api.ts';
import { h } from './dom.ts';

export function mountNodeRemoval(node: string): void {
  const button = document.getElementById('remove-node') as HTMLButtonElement | null;
  if (!button) return;
  void fetch('/api/me', { headers: { accept: 'application/json' } })
    .then(async (res) => {
      if (!res.ok) return;
      const me = (await res.json()) as { role: string | null; via: string };
      button.hidden = !(me.role === 'admin' || me.via === 'open');
      button.dataset['roleChecked'] = 'true';
    })
    .catch(() => undefined); // no button is a safe default
  button.addEventListener('click', () => openDialog(node));
}

function openDialog(node: string): void {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const keep = h('button', { type: 'button', 'data-purge': '0', text: 'Remove, keep data' });
  const purge = h('button', { type: 'button', 'data-purge': '1', class: 'danger', text: 'Remove and purge data' });
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const dialog = h(
    'dialog',
    { class: 'add-node remove-node', 'aria-label': `Remove ${node}` },
    h('h2', { text: `Remove ${node}?` }),
    h('p', {
      text:
        'Its token is revoked (a running agent is disconnected and refused), its alarms are cleared and it leaves the fleet. ' +
        'Kept data stays readable by export; purged data is deleted for good.',
    }),
    h('p', {}, keep, ' ', purge, ' ', cancel),
    error,
  );
  const remove = async (withPurge: boolean) => {
    for (const b of [keep, purge, cancel]) b.disabled = true;
    const res = await fetch(`/api/nodes/${encodeURIComponent(node)}${withPurge ? '?purge=1' : ''}`, { method: 'DELETE', headers: csrfHeaders() }).catch(
      (err: Error) => err,
    );
    if (!(res instanceof Error) && res.ok) return location.assign('/');
    const message = res instanceof Error ? res.message : (((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
    error.textContent = `Could not remove ${node}: ${message}`;
    error.hidden = false;
    for (const b of [keep, purge, cancel]) b.disabled = false;
  };
  keep.addEventListener('click', () => void remove(false));
  purge.addEventListener('click', () => void remove(true));
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
