// The node page's remote controls (issue 3): pause/resume sampling, change the interval, and a
// "watch" button on each row of the top-processes tables that starts a memory session in one click.
import type { ProcessUsage } from '../../protocol/sample.ts';
import type { AgentControlState } from '../session-types.ts';
import { clearError, csrfHeaders, getJson, showError } from './api.ts';
import { h, setText } from './dom.ts';

const INTERVALS = ['250ms', '500ms', '1s', '2s', '5s', '10s', '30s', '1m', '5m'];

async function command(node: string, body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`/api/nodes/${encodeURIComponent(node)}/commands`, { method: 'POST', headers: csrfHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
    const answer = (await res.json()) as { error?: string; result?: Record<string, unknown> };
    if (res.status === 202) {
      showError(`The agent has not answered "${String(body['action'])}" yet; it may be slow or busy.`, 'control');
      return null;
    }
    if (!res.ok) {
      showError(`${String(body['action'])}: ${answer.error ?? res.statusText}`, 'control');
      return null;
    }
    clearError('control');
    return answer.result ?? {};
  } catch (err) {
    showError(`${String(body['action'])}: ${(err as Error).message}`, 'control');
    return null;
  }
}

/** Fills #node-controls; stays hidden on a hub without remote commands (`remonitor web`). */
export function mountNodeControls(node: string): void {
  const box = document.getElementById('node-controls');
  if (!box) return;
  const state = h('span', { class: 'hint', 'data-control': 'state' });
  const toggle = h('button', { type: 'button', 'data-control': 'toggle', text: 'Pause sampling' });
  const select = h('select', { 'aria-label': 'Sample interval', 'data-control': 'interval' }, ...INTERVALS.map((i) => h('option', { value: i, text: i })));
  const apply = h('button', { type: 'button', 'data-control': 'apply', text: 'Set interval' });
  let paused = false;
  const show = (s: Partial<AgentControlState> & { status?: string }) => {
    if (typeof s.paused === 'boolean') paused = s.paused;
    setText(toggle, paused ? 'Resume sampling' : 'Pause sampling');
    const interval = typeof s.interval_ms === 'number' ? `every ${s.interval_ms >= 1000 ? `${s.interval_ms / 1000} s` : `${s.interval_ms} ms`}` : '';
    setText(state, s.paused == null ? 'Remote control' : `${paused ? 'Sampling paused' : 'Sampling'} ${interval}`.trim());
  };
  toggle.addEventListener('click', async () => {
    const r = await command(node, { action: paused ? 'start' : 'stop' });
    if (r) show(r as Partial<AgentControlState>);
  });
  apply.addEventListener('click', async () => {
    const r = await command(node, { action: 'interval', interval: select.value });
    if (r) show(r as Partial<AgentControlState>);
  });
  box.replaceChildren(state, toggle, select, apply, h('a', { href: '/sessions', text: 'Memory sessions' }));
  void getJson<AgentControlState & { status: string }>(`/api/nodes/${encodeURIComponent(node)}/control`)
    .then((s) => {
      box.hidden = false;
      show(s);
    })
    .catch(() => undefined); // no remote commands on this server: the controls stay hidden

  // One listener for every watch button, whatever rows the tables hold now or later.
  document.addEventListener('click', async (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button.watch-button');
    if (!button) return;
    button.disabled = true;
    try {
      const res = await fetch('/api/sessions', { method: 'POST', headers: csrfHeaders({ 'content-type': 'application/json' }), body: JSON.stringify({ node, target: `pid:${button.dataset['pid']}`, interval: '1s' }) });
      const answer = (await res.json()) as { session?: string; error?: string };
      if (answer.session && (res.status === 201 || res.status === 202)) location.href = `/sessions/${encodeURIComponent(answer.session)}`;
      else showError(`Could not watch ${button.dataset['name']}: ${answer.error ?? res.statusText}`, 'control');
    } finally {
      button.disabled = false;
    }
  });
}

/** The last cell of a top-processes row: a button that watches this process's memory. */
export function setWatchCell(cell: HTMLTableCellElement, p: ProcessUsage): void {
  let button = cell.querySelector<HTMLButtonElement>('button.watch-button');
  if (!button) {
    button = h('button', { type: 'button', class: 'watch-button', text: 'watch' });
    cell.replaceChildren(button);
  }
  if (button.dataset['pid'] !== String(p.pid)) {
    button.dataset['pid'] = String(p.pid);
    button.dataset['name'] = p.name;
    button.title = `Record the memory of ${p.name} (pid ${p.pid}) as a session, with a leak verdict`;
  }
}
