// The node page's remote controls: pause/resume sampling, change the interval, and a
// "watch" button on each row of the top-processes tables that starts a memory session in one click.
import type { ProcessUsage } from '../../protocol/sample.ts';
import type { AgentControlState } from '../../shared/session-types.ts';
import { clearError, csrfHeaders, getJson, showError } from './api.ts';
import { h, setText } from './dom.ts';
import { fmtInterval } from './format.ts';
import { formatDuration } from '../../protocol/duration.ts';

/** The picker's usual choices, ms; the agent's own interval is added when it is none of them. */
const INTERVALS_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000];

/** The agent's interval as the node page knows it, and where the node page tells it the announced one. */
export interface NodeControls {
  /** The agent's sample interval, ms: its reply to the last command, else what it announced on connecting; null while unknown. */
  intervalMs(): number | null;
  /** The interval in the node's info record (announced when the agent connects). */
  announce(intervalMs: number | null | undefined): void;
}

async function command(node: string, body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`/api/nodes/${encodeURIComponent(node)}/commands`, {
      method: 'POST',
      headers: csrfHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    });
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
export function mountNodeControls(node: string): NodeControls {
  // The agent's word after a command beats its announcement, which predates any command.
  let replied: number | null = null;
  let announced: number | null = null;
  const current = () => replied ?? announced;
  const box = document.getElementById('node-controls');
  if (!box) return { intervalMs: current, announce: (ms) => void (announced = ms ?? null) };
  const state = h('span', { class: 'hint', 'data-control': 'state' });
  const toggle = h('button', { type: 'button', 'data-control': 'toggle', text: 'Pause sampling' });
  const select = h('select', { 'aria-label': 'Sample interval', 'data-control': 'interval' });
  const apply = h('button', { type: 'button', 'data-control': 'apply', text: 'Set interval' });
  let paused: boolean | null = null;
  /** The user has picked an interval not yet sent: a state update must not undo the pick. */
  let picking = false;

  const syncPicker = () => {
    const now = current();
    if (!picking) {
      const choices = now != null && !INTERVALS_MS.includes(now) ? [...INTERVALS_MS, now].sort((a, b) => a - b) : INTERVALS_MS;
      const options = choices.map((ms) => h('option', { value: formatDuration(ms), text: fmtInterval(ms) }));
      // Until the agent's interval is known, nothing is preselected: Set would send a guess.
      if (now == null) options.unshift(h('option', { value: '', text: 'interval…', disabled: true }));
      select.replaceChildren(...options);
      select.value = now == null ? '' : formatDuration(now);
    }
    apply.disabled = select.value === '' || (now != null && select.value === formatDuration(now));
  };
  const show = (s: Partial<AgentControlState>) => {
    if (typeof s.paused === 'boolean') paused = s.paused;
    if (typeof s.interval_ms === 'number') replied = s.interval_ms;
    setText(toggle, paused ? 'Resume sampling' : 'Pause sampling');
    const now = current();
    const every = now == null ? '' : ` every ${fmtInterval(now)}`;
    setText(state, paused == null && now == null ? 'Remote control' : `${paused ? 'Sampling paused' : 'Sampling'}${every}`);
    syncPicker();
  };
  toggle.addEventListener('click', async () => {
    const r = await command(node, { action: paused ? 'start' : 'stop' });
    if (r) show(r as Partial<AgentControlState>);
  });
  select.addEventListener('change', () => {
    picking = true;
    syncPicker();
  });
  apply.addEventListener('click', async () => {
    const r = await command(node, { action: 'interval', interval: select.value });
    if (!r) return;
    picking = false;
    show(r as Partial<AgentControlState>);
  });
  box.replaceChildren(state, toggle, select, apply, h('a', { href: '/sessions', text: 'Memory sessions' }));
  show({});
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
      const res = await fetch('/api/sessions', {
        method: 'POST',
        headers: csrfHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ node, target: `pid:${button.dataset['pid']}`, interval: '1s' }),
      });
      const answer = (await res.json()) as { session?: string; error?: string };
      if (answer.session && (res.status === 201 || res.status === 202)) location.href = `/sessions/${encodeURIComponent(answer.session)}`;
      else showError(`Could not watch ${button.dataset['name']}: ${answer.error ?? res.statusText}`, 'control');
    } finally {
      button.disabled = false;
    }
  });
  return {
    intervalMs: current,
    announce: (ms) => {
      announced = ms ?? null;
      show({});
    },
  };
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
