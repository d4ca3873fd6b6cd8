// The sessions list (`/sessions`): every session with its verdict, the demo, and a form to start one.
import type { SessionsResponse } from '../../shared/session-types.ts';
import { clearError, csrfHeaders, getJson, showError } from './api.ts';
import './signed-in.ts';
import { byId, h, setText } from './dom.ts';
import { fmtDateTime } from './format.ts';
import { ciRecordLine } from './session-ci-line.ts';

async function load(): Promise<void> {
  const { sessions } = await getJson<SessionsResponse>('/api/sessions');
  setText(byId('count'), `${sessions.length} session${sessions.length === 1 ? '' : 's'}`);
  byId('sessions').replaceChildren(
    ...(sessions.length === 0
      ? [h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No sessions yet: watch a process from a node page, or start one above.' }))]
      : sessions.map((s) =>
          h(
            'tr',
            { 'data-session': s.id },
            h('td', {}, h('a', { href: `/sessions/${encodeURIComponent(s.id)}`, text: s.target })),
            h('td', {}, h('a', { href: `/nodes/${encodeURIComponent(s.node)}`, text: s.node })),
            h('td', { text: s.state }),
            h('td', { 'data-verdict': s.analysis.verdict, text: s.analysis.headline }),
            h('td', { text: s.analysis.slope_mb_per_h == null ? '—' : `${s.analysis.slope_mb_per_h.toFixed(2)} MB/h` }),
            h('td', { text: String(s.sample_count) }),
            h('td', { text: fmtDateTime(s.started_ms) }),
          ),
        )),
  );
  clearError('list');
}

async function start(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const body = {
    node: (byId('new-node') as HTMLInputElement).value.trim(),
    target: (byId('new-target') as HTMLInputElement).value.trim(),
    interval: (byId('new-interval') as HTMLInputElement).value.trim(),
  };
  try {
    const res = await fetch('/api/sessions', { method: 'POST', headers: csrfHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
    const answer = (await res.json()) as { session?: string; error?: string };
    if (answer.session && (res.status === 201 || res.status === 202)) location.href = `/sessions/${encodeURIComponent(answer.session)}`;
    else showError(`Could not start the session: ${answer.error ?? res.statusText}`, 'start');
  } catch (err) {
    showError(`Could not start the session: ${(err as Error).message}`, 'start');
  }
}

byId('new-session').addEventListener('submit', (e) => void start(e as SubmitEvent));
setText(byId('ci-record'), ciRecordLine(location.origin, location.hostname));
void load()
  .catch((err: Error) => showError(`Could not load the sessions: ${err.message}`, 'list'))
  .finally(() => (document.body.dataset['ready'] = 'true'));
setInterval(() => void load().catch(() => undefined), 5000);
