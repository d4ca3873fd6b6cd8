// Alarms end to end with real parts: an Agent (its OS sampler replaced by a scripted one, so the
// disk climbs on cue) → embedded broker → hub ingest → alarm engine → SQLite, the retained MQTT
// alarm topic read by a plain mqtt client, GET /api/alarms, and a webhook receiver (node:http on
// port 0) started here. Windows and durations are short through the rules and engine options.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { HubService } from '../../cli/hub-service.ts';
import type { AlarmsResponse, NodeAlarmsMessage } from '../../shared/alarm-types.ts';
import { CLI, cleanup, getJson, quietLog, runCleanups, spawnProcess, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler, stubBirthOf } from '../helpers/stub-sampler.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);

const birth = stubBirthOf(100);

describe('alarms end to end', () => {
  it('a climbing disk goes AMBER then RED; MQTT, API and webhook agree; silence and a killed agent raise offline', async () => {
    const { url } = await startBroker();
    const hook = await startWebhookReceiver();
    const dataDir = tempDir();
    const notify = { webhook: hook.url, min_interval: '0s' };
    // Short windows so the test takes seconds: 100 ms samples, 3 s of trend, 1 s of `for`.
    writeFileSync(
      join(dataDir, 'alarm-rules.json'),
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'disk', metric: 'fs_pct', threshold: 80, for: '1s', window: '500ms', horizon: '1h', trend_window: '3s', notify },
          { id: 'offline', metric: 'offline', notify },
        ],
      }),
    );
    const hub = new HubService({
      brokerUrl: url,
      dataDir,
      httpPort: 0,
      log: quietLog,
      alarms: { tickMs: 100, minStaleMs: 1500, notifier: { pollMs: 100 } },
    });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;

    // '/' climbs 1 % per sample (10 %/s at 100 ms) from 40 %; '/boot' stays at 20 % and must stay OK.
    const sampler = scriptedSampler((i) => ({
      cpu_pct: 5,
      filesystems: [
        { mount: '/', size_bytes: 32e9, used_bytes: 0, used_pct: Math.min(99, 40 + i) },
        { mount: '/boot', size_bytes: 5e8, used_bytes: 1e8, used_pct: 20 },
      ],
    }));
    const agent = new Agent({ brokerUrl: url, node: 'pi-disk', intervalMs: 100, processIntervalMs: 60_000, sampler, birthRecord: birth, log: quietLog });
    await agent.start();
    cleanup(() => agent.stop());

    const red = await waitFor(
      'disk / RED in the API',
      async () => {
        const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?history=1h`);
        return body.alarms.find((a) => a.node === 'pi-disk' && a.rule_id === 'disk' && a.subject === '/' && a.state === 'red') ? body : null;
      },
      20_000,
    );
    const path = red.history!.filter((t) => t.node === 'pi-disk' && t.rule_id === 'disk').reverse();
    expect(path.map((t) => `${t.subject} ${t.from}→${t.to}`)).toEqual(['/ ok→amber', '/ amber→red']);
    const amber = path[0]!;
    // AMBER came with a prediction, before the value crossed.
    expect(amber.tt_ms).toBeGreaterThan(0);
    expect(amber.value).toBeLessThan(80);
    expect(path[1]!.value).toBeGreaterThan(80);
    expect(red.alarms.filter((a) => a.node === 'pi-disk').map((a) => `${a.rule_id} ${a.subject} ${a.state}`)).toEqual(['disk / red']);

    // A plain MQTT client that subscribes now gets the retained set, equal to the API's.
    const outsider = await mqtt.connectAsync(url, { protocolVersion: 4 });
    cleanup(() => outsider.endAsync());
    const retained = new Promise<NodeAlarmsMessage>((resolve) =>
      outsider.on('message', (topic, payload, packet) => {
        if (topic === 'remonitor/pi-disk/alarms' && packet.retain) resolve(JSON.parse(payload.toString('utf8')) as NodeAlarmsMessage);
      }),
    );
    await outsider.subscribeAsync('remonitor/+/alarms', { qos: 1 });
    const message = await retained;
    const { body: now } = await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-disk`);
    const key = (a: { node: string; rule_id: string; subject: string; state: string; threshold: number }) =>
      `${a.node} ${a.rule_id} ${a.subject} ${a.state} ${a.threshold}`;
    expect(message.alarms.map(key)).toEqual(now.alarms.map(key));
    expect(message.transition?.to).toBe('red');

    // Exactly one webhook call per transition so far.
    await waitFor('two webhook calls', () => hook.calls.length >= 2);
    expect(hook.calls.map((c) => `${c.transition.node} ${c.rule.id} ${c.transition.from}→${c.transition.to}`)).toEqual([
      'pi-disk disk ok→amber',
      'pi-disk disk amber→red',
    ]);

    // Acknowledge it: the API and the retained set say so.
    const ack = await fetch(`${api}/api/alarms/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'pi-disk', rule_id: 'disk', subject: '/' }),
    });
    expect(ack.status).toBe(200);
    expect((await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-disk`)).body.alarms[0]!.acked).toBe(true);

    // The agent stops sending but stays connected (its status stays online): silence raises offline.
    agent.pause();
    await waitFor(
      'pi-disk offline after silence',
      async () => {
        const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-disk`);
        return body.alarms.some((a) => a.rule_id === 'offline' && a.state === 'offline');
      },
      10_000,
    );

    // A real agent process killed with SIGKILL: the broker sends its last will, offline.
    const killed = spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', 'pi-killed', '--interval', '250ms']);
    await waitFor('pi-killed sends samples', async () => (await getJson(`${api}/api/nodes/pi-killed`)).status === 200, 20_000);
    killed.child.kill('SIGKILL');
    await killed.exited;
    await waitFor(
      'pi-killed offline',
      async () => {
        const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-killed`);
        return body.alarms.some((a) => a.rule_id === 'offline' && a.state === 'offline');
      },
      15_000,
    );

    await waitFor('four webhook calls', () => hook.calls.length >= 4);
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up, if there were one
    expect(hook.calls.map((c) => `${c.transition.node} ${c.rule.id} ${c.transition.from}→${c.transition.to}`).sort()).toEqual([
      'pi-disk disk amber→red',
      'pi-disk disk ok→amber',
      'pi-disk offline ok→offline',
      'pi-killed offline ok→offline',
    ]);
  }, 60_000);

  it('a restarted hub goes on from the stored states: no second RED, no second notification', async () => {
    const { url } = await startBroker();
    const hook = await startWebhookReceiver();
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'alarm-rules.json'),
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'disk', metric: 'fs_pct', threshold: 80, for: '500ms', window: '500ms', trend_window: '5s', notify: { webhook: hook.url, min_interval: '0s' } },
        ],
      }),
    );
    const options = { brokerUrl: url, dataDir, httpPort: 0, log: quietLog, alarms: { tickMs: 100, notifier: { pollMs: 100 } } };
    const sampler = scriptedSampler(() => ({ filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 29e9, used_pct: 91 }] }));
    const agent = new Agent({ brokerUrl: url, node: 'pi-full', intervalMs: 100, processIntervalMs: 60_000, sampler, birthRecord: birth, log: quietLog });
    const first = new HubService(options);
    await first.start();
    await agent.start();
    cleanup(() => agent.stop());
    await waitFor('RED', () => first.alarms!.active().some((a) => a.state === 'red'));
    await waitFor('one webhook call', () => hook.calls.length === 1);
    await first.stop();

    const second = new HubService(options);
    await second.start();
    cleanup(() => second.stop());
    const api = `http://127.0.0.1:${second.httpPort}`;
    await waitFor('RED after the restart', async () => {
      const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms`);
      return body.alarms.some((a) => a.node === 'pi-full' && a.state === 'red');
    });
    const stored = second.ingest.stats.stored;
    await waitFor('ten more samples judged', () => second.ingest.stats.stored >= stored + 10);
    const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?history=1h`);
    expect(body.history!.map((t) => `${t.from}→${t.to}`)).toEqual(['ok→red']);
    expect(hook.calls).toHaveLength(1);
  });

  it('refuses an invalid rule with every reason, and edits rules through the API into the rules file', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;
    const send = (method: string, path: string, body?: unknown) =>
      fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    const defaults = await getJson<{ rules: { id: string }[] }>(`${api}/api/alarms/rules`);
    expect(defaults.body.rules.map((r) => r.id)).toEqual([
      'cpu',
      'memory',
      'swap',
      'disk',
      'temperature',
      'offline',
      'clock',
      'undervoltage',
      'throttled',
      'container-memory',
      'unit-failed',
      'readonly-fs',
      'storage-wear',
      'container-stopped',
      'smart-failed',
    ]);

    const bad = await send('POST', '/api/alarms/rules', { id: 'x y', metric: 'cpu_pcnt', threshold: 'high', for: 'soon' });
    expect(bad.status).toBe(400);
    const problems = ((await bad.json()) as { problems: { field: string }[] }).problems.map((p) => p.field);
    expect(problems).toEqual(expect.arrayContaining(['id', 'metric', 'threshold', 'for']));

    const rule = { id: 'rss-node', metric: 'proc_rss_bytes:node', threshold: 5e8, node_pattern: 'ci-*' };
    expect((await send('POST', '/api/alarms/rules', rule)).status).toBe(201);
    expect((await send('POST', '/api/alarms/rules', rule)).status).toBe(409);
    expect((await send('PUT', '/api/alarms/rules/rss-node', { metric: 'proc_rss_bytes:node', threshold: 6e8 })).status).toBe(200);
    expect((await send('PUT', '/api/alarms/rules/nope', rule)).status).toBe(404);
    const { readFileSync } = await import('node:fs');
    const file = JSON.parse(readFileSync(join(dataDir, 'alarm-rules.json'), 'utf8')) as { rules: { id: string; threshold?: number }[] };
    expect(file.rules.find((r) => r.id === 'rss-node')?.threshold).toBe(6e8);
    expect((await send('DELETE', '/api/alarms/rules/cpu')).status).toBe(200);
    expect((await getJson<{ rules: { id: string }[] }>(`${api}/api/alarms/rules`)).body.rules.map((r) => r.id)).not.toContain('cpu');

    const silence = await send('POST', '/api/alarms/silence', { node: 'pi-1', for: '1h', reason: 'maintenance' });
    expect(silence.status).toBe(201);
    expect((await send('POST', '/api/alarms/silence', { for: 'forever' })).status).toBe(400);
    expect((await getJson(`${api}/api/alarms/silences`)).body.silences).toHaveLength(1);
    expect((await getJson(`${api}/api/alarms?history=lots`)).status).toBe(400);
  });
});
