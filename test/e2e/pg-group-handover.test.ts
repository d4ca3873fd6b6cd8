// Alarm and session state in a group of hubs on one PostgreSQL database: an alarm raised,
// acknowledged and silenced through the coordinator, and a session started through it, are kept in
// the database, so when that hub stops the next coordinator shows the same alarm, acknowledgement
// and silence, does not notify again for it, and lists the session and goes on storing its samples.
// Real Mosquitto (MQTT 5 shared subscriptions), PostgreSQL, two hubs in this process, an
// in-process agent whose scripted sampler stands in for the OS, a webhook receiver.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import type { AlarmInfo, AlarmsResponse } from '../../shared/alarm-types.ts';
import type { SessionsResponse, SessionSummary } from '../../shared/session-types.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { cleanup, getJson, quietLog, runCleanups, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';
import { simAgent } from '../faults/fleet.ts';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());
afterEach(runCleanups);

async function post(url: string, body: object): Promise<number> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await res.body?.cancel();
  return res.status;
}

async function sessionAt(api: string, id: string): Promise<SessionSummary | undefined> {
  return (await getJson<SessionsResponse>(`${api}/api/sessions`)).body.sessions.find((s) => s.id === id);
}

describe('a PostgreSQL group hands its alarm and session state over', () => {
  it('shows the same active alarms, acks, silences and sessions at the next coordinator, which does not notify again', async () => {
    const storage = await postgres.createDatabase();
    const broker = await startMosquitto();
    const hook = await startWebhookReceiver();
    const rules = JSON.stringify({
      version: 1,
      rules: [
        { id: 'cpu-hot', metric: 'cpu_pct', threshold: 80, for: '1s', window: '1s', notify: { webhook: hook.url, min_interval: '0s' } },
        { id: 'mem-high', metric: 'mem_pct', threshold: 30, for: '1s', window: '1s', notify: { webhook: hook.url, min_interval: '0s' } },
      ],
    });
    const openHub = async (hubId: string) => {
      const dataDir = tempDir('remonitor-hubdata-');
      writeFileSync(join(dataDir, 'alarm-rules.json'), rules);
      const hub = await HubService.open({
        brokerUrl: broker.url,
        dataDir,
        httpPort: 0,
        log: quietLog,
        storage,
        sharedGroup: { group: 'g', hubId, clientId: `remonitor-hub-g-${hubId}` },
        alarms: { tickMs: 200 },
      });
      let stopped = false;
      cleanup(() => (stopped ? undefined : hub.stop()));
      await hub.start();
      return { hub, api: `http://127.0.0.1:${hub.httpPort}`, stop: () => ((stopped = true), hub.stop()) };
    };
    const a = await openHub('a');
    await waitFor('hub a coordinates', () => a.hub.coordination?.elected);
    const b = await openHub('b');

    const agent = simAgent(broker.url, 'hot', { intervalMs: 200, sampler: scriptedSampler(() => ({ cpu_pct: 95, mem_pct: 40 })) });
    await agent.start();
    const alarmsAt = async (api: string) => (await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms.filter((x) => x.node === 'hot');
    const red = (alarms: AlarmInfo[]) => alarms.filter((x) => x.state === 'red').map((x) => x.rule_id);
    await waitFor('both alarms RED at hub a', async () => red(await alarmsAt(a.api)).length === 2, 20_000);
    const redCalls = () => hook.calls.filter((c) => c.transition.node === 'hot' && c.transition.to === 'red').map((c) => c.transition.rule_id);
    await waitFor('a RED notification of each', () => redCalls().length === 2, 10_000);

    expect(await post(`${a.api}/api/alarms/ack`, { node: 'hot', rule_id: 'mem-high' })).toBe(200);
    expect(await post(`${a.api}/api/alarms/silence`, { node: 'hot', rule_id: 'cpu-hot', for: '1h', reason: 'load test' })).toBe(201);
    const before = await alarmsAt(a.api);
    const seen = (alarms: AlarmInfo[]) =>
      alarms.map((x) => ({ rule: x.rule_id, state: x.state, acked: x.acked, silenced: x.silenced_until_ms })).sort((x, y) => x.rule.localeCompare(y.rule));
    expect(seen(before)).toEqual([
      { rule: 'cpu-hot', state: 'red', acked: false, silenced: expect.any(Number) },
      { rule: 'mem-high', state: 'red', acked: true, silenced: null },
    ]);

    // A session watching this test's own process, started through hub a, which stores its samples.
    const started = await fetch(`${a.api}/api/sessions`, {
      method: 'POST',
      body: JSON.stringify({ node: 'hot', target: `pid:${process.pid}`, interval: '1s' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(started.status).toBe(201);
    const session = ((await started.json()) as { id: string }).id;
    await waitFor('watch samples stored through hub a', async () => ((await sessionAt(a.api, session))?.sample_count ?? 0) >= 2, 20_000);

    // Hub a stops (its coordinator lock goes with it); hub b takes the role and reads the state a left.
    await a.stop();
    await waitFor('hub b coordinates', () => b.hub.coordination?.elected, 20_000);
    await waitFor('both alarms at hub b', async () => red(await alarmsAt(b.api)).length === 2, 20_000);
    const after = await alarmsAt(b.api);
    // The same alarms in the same states, the ack and the silence with them, RED since hub a stored it so.
    expect(seen(after)).toEqual(seen(before));
    const history = (await getJson<AlarmsResponse>(`${b.api}/api/alarms?history=1h`)).body.history!;
    for (const alarm of after) {
      const raised = history.find((t) => t.node === 'hot' && t.rule_id === alarm.rule_id && t.to === 'red');
      expect(alarm.since_ms, alarm.rule_id).toBe(raised?.ts_ms);
    }
    // Hub b judges the node's samples for a while: the alarms stay RED, nothing is told again.
    const judged = b.hub.alarms!.stats.evaluations;
    await waitFor('hub b judged 20 more samples', () => b.hub.alarms!.stats.evaluations >= judged + 20, 20_000);
    await b.hub.alarms!.notifier.settled();
    expect(redCalls().sort()).toEqual(['cpu-hot', 'mem-high']);
    expect(b.hub.alarms!.stats.transitions).toBe(0);
    const silences = (await getJson<{ silences: { rule_id: string; reason: string }[] }>(`${b.api}/api/alarms/silences`)).body.silences;
    expect(silences.map((s) => [s.rule_id, s.reason])).toEqual([['cpu-hot', 'load test']]);
    // The session is listed by hub b, still running, and its samples go on being stored there.
    const listed = (await sessionAt(b.api, session))!;
    expect(listed).toMatchObject({ node: 'hot', target: `pid:${process.pid}`, source: 'hub', state: 'running' });
    await waitFor('watch samples stored through hub b', async () => (await sessionAt(b.api, session))!.sample_count >= listed.sample_count + 2, 20_000);
  }, 120_000);
});
