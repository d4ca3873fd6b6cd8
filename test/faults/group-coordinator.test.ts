// Alarms, sessions and commands in a group of hubs: one hub at a time runs them (the coordinator,
// elected through a PostgreSQL advisory lock) on the whole fleet's stream, and every other hub and
// web process forwards those API calls to it. Real Mosquitto, PostgreSQL, hub and web processes,
// in-process agents (scripted samplers stand in for the OS), a webhook receiver started here.
// Then the coordinator is kill -9ed: the other hub takes the role and raises the alarm again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import { freePort, startMosquitto } from '../helpers/mosquitto.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { CLI, getJson, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';
import { HUB_ACK_INTERVAL, HubProcess, simAgent } from './fleet.ts';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());
afterEach(runCleanups);

async function coordinatorRow(storage: string): Promise<{ hub_id: string; api_url: string } | undefined> {
  const db = new pg.Client({ connectionString: storage });
  await db.connect();
  try {
    return (await db.query<{ hub_id: string; api_url: string }>('SELECT hub_id, api_url FROM group_coordinator')).rows[0];
  } finally {
    await db.end();
  }
}

const redOf = (body: AlarmsResponse) =>
  body.alarms
    .filter((a) => a.state === 'red')
    .map((a) => `${a.node}/${a.rule_id}`)
    .sort();

describe('a group of hubs: one coordinator for alarms, sessions and commands', () => {
  it('evaluates each alarm once, answers alike from every process, and hands over when the coordinator dies', async () => {
    const storage = await postgres.createDatabase();
    const broker = await startMosquitto();
    const hook = await startWebhookReceiver();
    // The rules every hub of the group reads (in a deployment: one shared data volume).
    const rules = JSON.stringify({
      version: 1,
      rules: [{ id: 'cpu-hot', metric: 'cpu_pct', threshold: 80, for: '1s', window: '1s', notify: { webhook: hook.url, min_interval: '0s' } }],
    });
    const ports = [await freePort(), await freePort()];
    const hubs = ['a', 'b'].map((id, i) => {
      const hub = new HubProcess((h) => [
        'hub',
        '--broker',
        broker.url,
        '--storage',
        storage,
        '--shared-group',
        'g',
        '--hub-id',
        id,
        '--http-port',
        String(ports[i]),
        '--data-dir',
        h.dataDir,
        '--insecure',
        '--log-level',
        'warn',
        ...HUB_ACK_INTERVAL,
      ]);
      writeFileSync(join(hub.dataDir, 'alarm-rules.json'), rules);
      return hub;
    });
    const apis = ports.map((p) => `http://127.0.0.1:${p}`);
    await hubs[0]!.start();
    await waitFor('hub a coordinates', async () => (await coordinatorRow(storage))?.hub_id === 'a');
    await hubs[1]!.start();
    // A third process given a live hub id is refused before it reaches the broker, where it would
    // take hub a's persistent session and the two would kick each other off without a word.
    const twin = spawnProcess(process.execPath, [
      CLI,
      'hub',
      '--broker',
      broker.url,
      '--storage',
      storage,
      '--shared-group',
      'g',
      '--hub-id',
      'a',
      '--http-port',
      '0',
      '--data-dir',
      tempDir(),
      '--insecure',
      '--log-level',
      'warn',
    ]);
    const { code } = await twin.exited;
    expect(code).not.toBe(0);
    expect(twin.output()).toMatch(/hub id "a" is already live in group "g": another hub process holds it/);

    // Six nodes; one runs hot. Their samples are dealt out between the hubs, but the coordinator sees them all.
    const nodes = ['hot', 'cool-1', 'cool-2', 'cool-3', 'cool-4', 'cool-5'];
    const agents = nodes.map((n) =>
      simAgent(broker.url, n, { intervalMs: 200, sampler: scriptedSampler(() => ({ cpu_pct: n === 'hot' ? 95 : 10, mem_pct: 40 })) }),
    );
    await Promise.all(agents.map((a) => a.start()));
    const webPort = await freePort();
    const web = spawnProcess(process.execPath, [
      CLI,
      'web',
      '--storage',
      storage,
      '--http-port',
      String(webPort),
      '--data-dir',
      tempDir(),
      '--insecure',
      '--log-level',
      'warn',
    ]);
    await web.waitForLine(/remonitor: dashboard at/);
    const everywhere = [...apis, `http://127.0.0.1:${webPort}`];

    await waitFor(
      'hot RED at the coordinator',
      async () => redOf((await getJson<AlarmsResponse>(`${apis[0]}/api/alarms`)).body).includes('hot/cpu-hot'),
      20_000,
    );
    await waitFor('the webhook called', () => hook.calls.length > 0, 10_000);
    await new Promise((r) => setTimeout(r, 2000)); // time for a second evaluator, if there were one, to notify too
    const reds = hook.calls.filter((c) => c.transition.to === 'red' && c.transition.node === 'hot');
    expect(reds.length).toBe(1);
    // Hub b and the web process answer with the coordinator's alarms (forwarded), not their own.
    for (const api of everywhere) {
      const { status, body } = await getJson<AlarmsResponse>(`${api}/api/alarms`);
      expect(status, api).toBe(200);
      expect(redOf(body), api).toEqual(['hot/cpu-hot']);
    }
    // The live view through hub b (server-sent events) shows every node, not only its share of the stream.
    const seen = new Set<string>();
    const stream = await fetch(`${apis[1]}/api/stream`);
    const reader = stream.body!.getReader();
    const deadline = Date.now() + 10_000;
    let text = '';
    while (seen.size < nodes.length && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      for (const m of text.matchAll(/"type":"sample","node":"([^"]+)"/g)) seen.add(m[1]!);
    }
    await reader.cancel();
    expect([...seen].sort()).toEqual([...nodes].sort());
    // A command sent through hub b goes out from the coordinator and comes back with the reply.
    const ping = await fetch(`${apis[1]}/api/nodes/cool-3/commands`, {
      method: 'POST',
      body: JSON.stringify({ action: 'ping' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ status: 'replied', ok: true, result: { pong: true } });
    expect((await getJson(`${apis[1]}/api/sessions`)).body).toEqual((await getJson(`${apis[0]}/api/sessions`)).body);

    // The coordinator dies: b takes the role (the lock went with a's connection) and raises the alarm itself.
    await hubs[0]!.kill9();
    const killedAt = Date.now();
    await waitFor('hub b coordinates', async () => (await coordinatorRow(storage))?.hub_id === 'b', 20_000);
    await waitFor('hot RED at hub b', async () => redOf((await getJson<AlarmsResponse>(`${apis[1]}/api/alarms`)).body).includes('hot/cpu-hot'), 20_000);
    console.log(
      `[fault] coordinator kill -9: hub b coordinating and hot RED again after ${Date.now() - killedAt} ms; RED webhooks ${hook.calls.filter((c) => c.transition.to === 'red').length}`,
    );
    const viaWeb = await getJson<AlarmsResponse>(`http://127.0.0.1:${webPort}/api/alarms`);
    expect(viaWeb.status).toBe(200);
    expect(redOf(viaWeb.body)).toEqual(['hot/cpu-hot']);
  }, 120_000);
});
