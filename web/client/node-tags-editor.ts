// The node page's tags: a chip per tag under the system info, and for admins (and on an open hub)
// an editor of the tags given on the hub (PUT /api/nodes/:node/tags). The agent's own tags are
// shown beside it and cannot be removed here: they are changed on the node (`--tags`).
import type { ApiError, NodeSummary, NodeTagsResponse } from '../../shared/api-types.ts';
import { splitTags, tagListProblems } from '../../protocol/info.ts';
import { csrfHeaders } from './api.ts';
import { h } from './dom.ts';

let box: HTMLElement | null = null;
let canEdit: Promise<boolean> | null = null;
let editing = false;

/** Shows `summary`'s tags after `anchor` (the info list); kept while its editor is open. */
export function renderNodeTags(anchor: HTMLElement, summary: Pick<NodeSummary, 'name' | 'tags' | 'hub_tags' | 'info'>): void {
  if (!box) {
    box = h('div', { class: 'node-tags', 'data-field': 'tags' });
    anchor.after(box);
  }
  if (editing) return;
  const chips = summary.tags.map((t) => h('span', { class: 'tag-chip', 'data-tag': t, text: t }));
  const edit = h('button', { type: 'button', class: 'link-button', id: 'edit-tags', text: 'Edit tags', hidden: true });
  box.replaceChildren(h('span', { class: 'label', text: 'Tags' }), ...(chips.length ? chips : [h('span', { class: 'hint', text: 'none' })]), edit);
  canEdit ??= fetch('/api/me', { headers: { accept: 'application/json' } })
    .then((res) => (res.ok ? (res.json() as Promise<{ role: string | null; via: string }>) : null))
    .then((me) => me !== null && (me.role === 'admin' || me.via === 'open'))
    .catch(() => false);
  void canEdit.then((ok) => {
    edit.hidden = !ok;
    edit.dataset['roleChecked'] = 'true';
  });
  edit.addEventListener('click', () => openEditor(anchor, summary));
}

function openEditor(anchor: HTMLElement, summary: Pick<NodeSummary, 'name' | 'tags' | 'hub_tags' | 'info'>): void {
  if (!box) return;
  editing = true;
  const input = h('input', {
    id: 'tags-input',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: '600',
    placeholder: 'ci, room:kitchen',
    'aria-label': 'Tags given on the hub, comma-separated',
  });
  input.value = summary.hub_tags.join(', ');
  const agentTags = summary.info?.tags ?? [];
  const result = h('span', { class: 'hint', role: 'status' });
  const save = h('button', { type: 'button', id: 'save-tags', text: 'Save' });
  const cancel = h('button', { type: 'button', class: 'link-button', text: 'Cancel' });
  const close = (next: Pick<NodeSummary, 'name' | 'tags' | 'hub_tags' | 'info'>) => {
    editing = false;
    renderNodeTags(anchor, next);
  };
  cancel.addEventListener('click', () => close(summary));
  save.addEventListener('click', async () => {
    const tags = splitTags(input.value);
    const problems = tagListProblems(tags);
    if (problems.length) {
      result.textContent = problems.join('; ');
      return;
    }
    result.textContent = '…';
    const res = await fetch(`/api/nodes/${encodeURIComponent(summary.name)}/tags`, {
      method: 'PUT',
      headers: csrfHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ tags }),
    }).catch(() => null);
    if (res?.ok) {
      const body = (await res.json()) as NodeTagsResponse;
      close({ ...summary, tags: body.tags, hub_tags: body.hub_tags });
      return;
    }
    result.textContent = (res && ((await res.json().catch(() => ({}))) as Partial<ApiError>).error) || 'cannot reach the hub';
  });
  box.replaceChildren(
    h('label', {}, 'Tags ', input),
    ...(agentTags.length ? [h('span', { class: 'hint', text: `and from the agent: ${agentTags.join(', ')}` })] : []),
    save,
    cancel,
    result,
  );
  input.focus();
}
