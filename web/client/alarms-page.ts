// The alarms page (`/alarms`): active alarms with ack and silence, the silences (silences.ts), the
// rules (rule-editor.ts) and the past transitions. Reloaded every few seconds; alarms change slowly.
// What a person may change follows their role (GET /api/me): operators acknowledge and silence,
// admins also edit rules and test channels; an open hub (no logins) lets everyone.
import type { AlarmInfo, AlarmsResponse, AlarmTransition, RulesResponse, SilenceInfo } from '../../shared/alarm-types.ts';
import { csrfHeaders, getJson, showError, clearError } from './api.ts';
import './signed-in.ts';
import { byId, h, setText } from './dom.ts';
import { fmtAgo, fmtDateTime, fmtDuration } from './format.ts';
import { onZoneChange } from './time-format.ts';
import { mountRules, type RulesView } from './rule-editor.ts';
import { mountSilences, type SilencesView } from './silences.ts';

const RELOAD_MS = 5000;
let history = '24h';

const fmtValue = (v: number | null) => (v == null ? '—' : String(Math.round(v * 10) / 10));
const fmtTt = (a: { state?: string; to?: string; tt_ms: number | null }) =>
  a.tt_ms == null ? '—' : a.tt_ms === 0 ? 'over now' : `in ${fmtDuration(a.tt_ms / 1000)}`;
const level = (l: string) => h('span', { class: 'level', 'data-level': l, text: l.toUpperCase() });
const ruleText = (rule: string, subject: string) => (subject ? `${rule} ${subject}` : rule);
const nodeLink = (node: string) => h('a', { href: `/nodes/${encodeURIComponent(node)}`, text: node });

async function post(path: string, body: unknown, method = 'POST'): Promise<void> {
  const res = await fetch(path, {
    method,
    headers: csrfHeaders({ 'content-type': 'application/json' }),
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(err.error ?? `${res.status} ${res.statusText}`);
  }
}

function act(fn: () => Promise<void>): () => void {
  return () => {
    fn()
      .then(() => reload())
      .catch((err: Error) => showError(`Could not do that: ${err.message}`, 'action'));
  };
}

function fill(tbody: HTMLTableSectionElement, rows: HTMLTableRowElement[], columns: number, emptyText: string): void {
  tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: columns, class: 'empty', text: emptyText }))]));
}

function renderActive(alarms: AlarmInfo[], now: number): void {
  const rows = alarms.map((a) => {
    const ack = h('button', { type: 'button', 'data-action': 'ack', text: a.acked ? 'acked' : 'Ack', disabled: a.acked });
    ack.addEventListener(
      'click',
      act(() => post('/api/alarms/ack', { node: a.node, rule_id: a.rule_id, subject: a.subject })),
    );
    // The form asks for how long and why (silences.ts).
    const silence = h('button', { type: 'button', 'data-action': 'silence', text: 'Silence…' });
    silence.addEventListener('click', () => silences?.prefill(a.node, a.rule_id, a.subject));
    const silenced = a.silenced_until_ms ? h('span', { class: 'hint', text: ` silenced until ${fmtDateTime(a.silenced_until_ms)}` }) : null;
    return h(
      'tr',
      { 'data-node': a.node, 'data-rule': a.rule_id, 'data-state': a.state, 'data-acked': String(a.acked), 'data-flapping': a.flapping || null },
      h(
        'td',
        {},
        level(a.state),
        a.flapping
          ? h('span', {
              class: 'level',
              'data-level': 'flapping',
              text: 'FLAPPING',
              title: 'It changed state too often of late: its notifications wait until it settles',
            })
          : null,
      ),
      h('td', {}, nodeLink(a.node)),
      h('td', { text: ruleText(a.rule_id, a.subject), title: a.metric }),
      h('td', { class: 'num', text: fmtValue(a.value) }),
      h('td', { class: 'num', text: a.metric === 'offline' ? '—' : String(a.threshold) }),
      h('td', { text: a.state === 'amber' ? fmtTt(a) : '—' }),
      h('td', { text: fmtAgo(a.since_ms, now), title: fmtDateTime(a.since_ms) }),
      h('td', {}, can.operate ? ack : null, can.operate ? silence : null, silenced),
    );
  });
  fill(byId<HTMLTableElement>('active').tBodies[0]!, rows, 8, 'No active alarms: everything is OK.');
  const red = alarms.filter((a) => a.state === 'red').length;
  const amber = alarms.filter((a) => a.state === 'amber').length;
  const offline = alarms.filter((a) => a.state === 'offline').length;
  setText(byId('summary'), `${red} red, ${amber} amber, ${offline} offline`);
}

function renderHistory(transitions: AlarmTransition[]): void {
  const rows = transitions
    .slice(0, 500)
    .map((t) =>
      h(
        'tr',
        { 'data-node': t.node, 'data-rule': t.rule_id },
        h('td', { text: fmtDateTime(t.ts_ms) }),
        h('td', {}, nodeLink(t.node)),
        h('td', { text: ruleText(t.rule_id, t.subject) }),
        h('td', {}, level(t.from), ' → ', level(t.to)),
        h('td', { class: 'num', text: fmtValue(t.value) }),
        h('td', { text: t.to === 'amber' ? fmtTt(t) : '—' }),
      ),
    );
  fill(byId<HTMLTableElement>('history').tBodies[0]!, rows, 6, `No changes in the last ${history}.`);
}

let timer: ReturnType<typeof setTimeout> | null = null;
async function reload(): Promise<void> {
  if (timer) clearTimeout(timer);
  try {
    const [alarms, silenced, rulesNow] = await Promise.all([
      getJson<AlarmsResponse>(`/api/alarms?history=${history}`),
      getJson<{ silences: SilenceInfo[] }>('/api/alarms/silences'),
      getJson<RulesResponse>('/api/alarms/rules'),
    ]);
    const now = Date.now();
    silences?.setRules(rulesNow.rules.map((r) => r.id));
    renderActive(alarms.alarms, now);
    silences?.render(silenced.silences);
    rules?.render(rulesNow);
    renderHistory(alarms.history ?? []);
    clearError('load');
    document.body.dataset['ready'] = 'true';
  } catch (err) {
    showError(`Could not load the alarms: ${(err as Error).message}`, 'load');
  }
  timer = setTimeout(() => void reload(), RELOAD_MS);
}

for (const b of document.querySelectorAll<HTMLButtonElement>('[data-history]')) {
  b.addEventListener('click', () => {
    history = b.dataset['history'] ?? '24h';
    for (const other of document.querySelectorAll<HTMLButtonElement>('[data-history]')) other.setAttribute('aria-pressed', String(other === b));
    void reload();
  });
}

/** "Send a test" to a channel URL (admins; POST /api/alarms/channels/test): what the service said when it fails. */
function channelTester(): HTMLElement {
  const input = h('input', {
    type: 'text',
    id: 'channel-url',
    size: 48,
    placeholder: 'ntfy://ntfy.sh/my-topic',
    'aria-label': 'Channel URL',
    spellcheck: 'false',
  });
  const button = h('button', { type: 'submit', text: 'Send a test' });
  const result = h('p', { id: 'channel-result', 'aria-live': 'polite' });
  const form = h('form', { id: 'channel-test' }, input, ' ', button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    button.disabled = true;
    setText(result, 'sending…');
    post('/api/alarms/channels/test', { url: input.value.trim() })
      .then(() => setText(result, 'Sent: look for it on the channel.'))
      .catch((err: Error) => setText(result, `Not sent: ${err.message}`))
      .finally(() => (button.disabled = false));
  });
  return h('section', { 'aria-labelledby': 'channels-title' }, h('h2', { id: 'channels-title', text: 'Notification channels' }), form, result);
}
/** What the signed-in person may change; everything on a hub without logins. */
const can = { operate: false, admin: false };
let silences: SilencesView | null = null;
let rules: RulesView | null = null;

async function start(): Promise<void> {
  const me = await fetch('/api/me', { headers: { accept: 'application/json' } })
    .then((res) => (res.ok ? (res.json() as Promise<{ role: string | null; via: string }>) : null))
    .catch(() => null);
  can.admin = me?.via === 'open' || me?.role === 'admin';
  can.operate = can.admin || me?.role === 'operator';
  document.body.dataset['role'] = me?.via === 'open' ? 'open' : (me?.role ?? 'unknown');
  silences = mountSilences(can.operate, () => void reload());
  rules = mountRules(can.admin, () => void reload());
  if (can.admin) document.querySelector('main')?.insertBefore(channelTester(), document.getElementById('history-section'));
  onZoneChange(() => void reload());
  await reload();
}
void start();
