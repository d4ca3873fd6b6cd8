// Rules that fire below their threshold end to end with real parts: an Agent (its OS sampler
// replaced by a scripted one that reports container_running in the sample's `series` field as the
// containers collector does: 1 running, 0 exited or restarting) → embedded broker → hub ingest →
// alarm engine → SQLite, GET /api/alarms, a webhook receiver on 127.0.0.1, and the rules API
// refusing the confusing clear level by field. Windows and durations are short through the rules
// and engine options.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { startScriptedAgent } from '../helpers/stub-sampler.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);

async function startHub(rules: unknown[]) {
  const { url } = await startBroker();
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'alarm-rules.json'), JSON.stringify({ version: 1, rules }));
  const hub = new HubService({
    brokerUrl: url,
    dataDir,
    httpPort: 0,
    log: quietLog,
    alarms: { tickMs: 100, minStaleMs: 1500, notifier: { pollMs: 100 }, watchRules: false },
  });
  await hub.start();
  cleanup(() => hub.stop());
  const api = `http://127.0.0.1:${hub.httpPort}`;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { problems?: { field: string; problem: string }[] } };
  };
  return { url, api, send };
}

const alarmsOf = async (api: string, node: string) => (await getJson<AlarmsResponse>(`${api}/api/alarms?node=${node}&history=1h`)).body;

describe('alarm rules that fire below their threshold', () => {
  it('a container that stops goes RED, named in the webhook message as below its threshold, and clears when it runs again', async () => {
    const hook = await startWebhookReceiver();
    const { url, api } = await startHub([
      {
        id: 'container-stopped',
        metric: 'container_running',
        when: 'below',
        threshold: 0.5,
        for: '1s',
        window: '500ms',
        horizon: '0',
        notify: { webhook: hook.url, min_interval: '0s' },
      },
    ]);
    let web = 1;
    await startScriptedAgent(url, 'pi-d', () => ({
      cpu_pct: 5,
      series: [
        { name: 'container_running', labels: { container: 'web' }, value: web },
        { name: 'container_running', labels: { container: 'db' }, value: 1 },
      ],
    }));
    web = 0;
    const red = await waitFor('web RED', async () => {
      const body = await alarmsOf(api, 'pi-d');
      return body.alarms.some((a) => a.state === 'red') ? body : null;
    });
    expect(red.alarms.map((a) => `${a.rule_id} ${a.subject} ${a.state} ${a.value}`)).toEqual(['container-stopped container=web red 0']);
    const call = await waitFor('the webhook call', () => hook.calls.find((c) => c.transition?.to === 'red'));
    expect(call.text).toBe('pi-d: container_running container=web ok → red at 0 (threshold below 0.5)');
    expect(call.rule).toMatchObject({ id: 'container-stopped', when: 'below', threshold: 0.5 });

    web = 1;
    await waitFor('web cleared', async () => (await alarmsOf(api, 'pi-d')).alarms.length === 0);
    const resolved = await waitFor('the resolved call', () => hook.calls.find((c) => c.status === 'resolved'));
    expect(resolved.text).toMatch(/^pi-d: container_running container=web red → ok at (0\.\d|1) \(threshold below 0\.5\)$/);
    // The running db was judged all along and never fired.
    const history = (await alarmsOf(api, 'pi-d')).history!.reverse();
    expect(history.map((t) => `${t.subject} ${t.from}→${t.to}`)).toEqual(['container=web ok→red', 'container=web red→ok']);
  });

  it('the rules API refuses clear_below on a below-rule and an unknown direction, naming the field', async () => {
    const { send } = await startHub([]);
    const mixed = await send('POST', '/api/alarms/rules', { id: 'x', metric: 'container_running', when: 'below', threshold: 0.5, clear_below: 0.2 });
    expect(mixed.status).toBe(400);
    expect(mixed.body.problems).toEqual([{ field: 'clear_below', problem: expect.stringContaining('clears above clear_above') }]);
    const bad = await send('POST', '/api/alarms/rules', { id: 'x', metric: 'container_running', when: 'lower', threshold: 0.5 });
    expect(bad.body.problems).toEqual([{ field: 'when', problem: 'must be "above" or "below", got "lower"' }]);
    const good = await send('POST', '/api/alarms/rules', { id: 'x', metric: 'container_running', when: 'below', threshold: 0.5, clear_above: 0.9 });
    expect(good.status).toBe(201);
  });
});
