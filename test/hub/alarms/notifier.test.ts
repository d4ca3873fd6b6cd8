// The notifier against real HTTP receivers (node:http on port 0) and a real SQLite queue: retries
// with backoff until delivered, a dead receiver's notification kept for retry with its error,
// transitions grouped into one message, and the ntfy request shape of the older `ntfy` field.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmStore } from '../../../hub/storage/sqlite/sqlite-alarm-store.ts';
import { Notifier, type WebhookBody } from '../../../hub/alarms/notifier.ts';
import { compileRule } from '../../../hub/alarms/rules.ts';
import type { AlarmTransition } from '../../../shared/alarm-types.ts';
import { cleanup, quietLog, runCleanups, tempDir, waitFor } from '../../helpers/parts.ts';

afterEach(runCleanups);

interface Call {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers each call with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(statuses[Math.min(calls.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

function setup(options: { baseBackoffMs?: number } = {}) {
  const store = new AlarmStore(join(tempDir(), 'alarms.db'));
  const notifier = new Notifier({ store, log: quietLog, pollMs: 20, baseBackoffMs: options.baseBackoffMs ?? 50, maxBackoffMs: 200 });
  notifier.start();
  cleanup(async () => {
    await notifier.stop();
    store.close();
  });
  return { store, notifier };
}

const transition = (to: AlarmTransition['to'], node = 'pi-1'): AlarmTransition => ({
  ts_ms: Date.now(),
  node,
  rule_id: 'disk',
  subject: '/',
  metric: 'fs_pct',
  from: 'ok',
  to,
  value: 71.5,
  threshold: 80,
  tt_ms: 3_600_000,
});

describe('Notifier', () => {
  it('retries a failing webhook with backoff until it is delivered, once', async () => {
    const hook = await receiver([500, 503, 204]);
    const { notifier, store } = setup();
    notifier.notify(
      compileRule({ id: 'disk', metric: 'fs_pct', threshold: 80, notify: { webhook: `${hook.url}/hook`, group_wait: '0s' } }),
      transition('amber'),
      false,
    );
    await waitFor('delivered', () => notifier.stats.delivered === 1, 5000, 20);
    expect(hook.calls).toHaveLength(3);
    expect(notifier.stats.failedAttempts).toBe(2);
    expect(await store.pendingDeliveries()).toBe(0);
    const body = JSON.parse(hook.calls[2]!.body) as WebhookBody;
    expect(hook.calls[2]!.headers['content-type']).toBe('application/json');
    expect(body.transition).toMatchObject({ node: 'pi-1', to: 'amber', tt_ms: 3_600_000 });
    expect(body.rule).toMatchObject({ id: 'disk', threshold: 80 });
  });

  it('keeps the notification of an unreachable receiver queued, and never blocks the caller', async () => {
    const { notifier, store } = setup();
    const rule = compileRule({ id: 'disk', metric: 'fs_pct', threshold: 80, notify: { webhook: 'http://127.0.0.1:9/nothing-listens', group_wait: '0s' } });
    const t0 = performance.now();
    notifier.notify(rule, transition('red'), false);
    const callMs = performance.now() - t0;
    await waitFor('two failed attempts', () => notifier.stats.failedAttempts >= 2, 5000, 20);
    expect(await store.pendingDeliveries()).toBe(1);
    expect(notifier.stats.delivered).toBe(0);
    // The failure is visible: in the queue's status (the URL redacted) and the stats.
    expect(await notifier.queueStatus()).toEqual([
      {
        channel: 'http://127.0.0.1:9/…',
        url: 'http://127.0.0.1:9/nothing-listens',
        kind: 'webhook',
        pending: 1,
        failing: 1,
        oldest_pending_ms: expect.any(Number),
        last_error: expect.stringMatching(/ECONNREFUSED/),
      },
    ]);
    expect(notifier.stats.lastError).toMatchObject({ channel: 'http://127.0.0.1:9/…', error: expect.stringMatching(/ECONNREFUSED/) });
    // The call only queued; the network work happened later (a generous bound, not a benchmark).
    expect(callMs).toBeLessThan(200);
  });

  it('groups the transitions of a rule into one message, and says nothing of a silenced alarm', async () => {
    const hook = await receiver([204]);
    const { notifier } = setup();
    const rule = compileRule({ id: 'disk', metric: 'fs_pct', threshold: 80, notify: { webhook: hook.url, group_wait: '300ms', min_interval: '1h' } });
    for (const to of ['amber', 'ok', 'amber', 'red'] as const) notifier.notify(rule, transition(to), false);
    notifier.notify(rule, transition('red', 'pi-2'), false);
    notifier.notify(rule, transition('red', 'pi-3'), true); // silenced: nothing
    await waitFor('one delivered', () => notifier.stats.delivered === 1, 5000, 20);
    await new Promise((r) => setTimeout(r, 300)); // room for a second message, if there were one
    expect(hook.calls).toHaveLength(1);
    const body = JSON.parse(hook.calls[0]!.body) as WebhookBody;
    expect(body.type).toBe('alarm_group');
    expect(body.firing.map((t) => `${t.node} ${t.from}→${t.to}`)).toEqual(['pi-1 ok→red', 'pi-2 ok→red']); // each alarm's last transition
    expect(body.title).toBe('remonitor: 2 nodes disk RED');
    expect(body.text).toBe('RED 2 nodes: fs_pct over 80 — pi-1 /, pi-2 /');
    expect(notifier.stats.grouped).toBe(5);
  });

  it('sends ntfy a text message with title, priority and tags', async () => {
    const ntfy = await receiver([200]);
    const { notifier } = setup();
    notifier.notify(
      compileRule({ id: 'disk', metric: 'fs_pct', threshold: 80, notify: { ntfy: `${ntfy.url}/remonitor-alerts`, group_wait: '0s' } }),
      transition('amber'),
      false,
    );
    await waitFor('delivered', () => notifier.stats.delivered === 1, 5000, 20);
    const call = ntfy.calls[0]!;
    expect(call.path).toBe('/remonitor-alerts');
    expect(call.headers['title']).toBe('remonitor: pi-1 disk AMBER');
    expect(call.headers['priority']).toBe('3');
    expect(call.headers['tags']).toBe('warning');
    expect(call.body).toBe('pi-1: fs_pct / ok → amber at 71.5, threshold 80 predicted in 60 min');
  });
});
