// Alarm rules on labelled metrics end to end with real parts: an Agent (its OS sampler replaced by a
// scripted one that reports containers and systemd units in the sample's `series` field, as the
// agent's collectors do) → embedded broker → hub ingest → alarm engine → SQLite, GET /api/alarms,
// a webhook receiver on 127.0.0.1, and the rules API and rules file refusing bad rules by field.
// Windows and durations are short through the rules and engine options.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { HubService } from '../../cli/hub-service.ts';
import type { LabelledValue } from '../../protocol/index.ts';
import type { AlarmsResponse, RulesResponse } from '../../shared/alarm-types.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler, stubBirthOf } from '../helpers/stub-sampler.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);

const birth = stubBirthOf(100);

async function startHub(rules: unknown[], watchRules: { debounceMs: number; pollMs: number } | false = false) {
  const { url } = await startBroker();
  const dataDir = tempDir();
  const file = join(dataDir, 'alarm-rules.json');
  writeFileSync(file, JSON.stringify({ version: 1, rules }));
  const hub = new HubService({
    brokerUrl: url,
    dataDir,
    httpPort: 0,
    log: quietLog,
    alarms: { tickMs: 100, minStaleMs: 1500, notifier: { pollMs: 100 }, watchRules },
  });
  await hub.start();
  cleanup(() => hub.stop());
  const api = `http://127.0.0.1:${hub.httpPort}`;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { problems?: { field: string; problem: string }[] } };
  };
  return { url, api, file, send };
}

/** An agent whose every sample carries what `series()` says at the time. */
async function startAgent(brokerUrl: string, node: string, series: () => LabelledValue[]) {
  const sampler = scriptedSampler(() => ({ cpu_pct: 5, series: series() }));
  const agent = new Agent({ brokerUrl, node, intervalMs: 100, processIntervalMs: 60_000, sampler, birthRecord: birth, log: quietLog });
  await agent.start();
  cleanup(() => agent.stop());
}

const alarmsOf = async (api: string, node: string) => (await getJson<AlarmsResponse>(`${api}/api/alarms?node=${node}&history=1h`)).body;

describe('alarm rules on labelled metrics', () => {
  it('judges each container on its own: the one over its limit goes RED and is named, the others stay clear; a label matcher limits the rule', async () => {
    const hook = await startWebhookReceiver();
    const notify = { webhook: hook.url, min_interval: '0s' };
    const { url, api } = await startHub([
      { id: 'container-memory', metric: 'container_mem_pct', threshold: 90, for: '1s', window: '500ms', horizon: '0', notify },
      { id: 'web-cpu', metric: 'container_cpu_pct', threshold: 150, for: '0s', window: '500ms', horizon: '0', labels: { container: 'web*' } },
    ]);
    // web-1 climbs past its limit on cue; db stays at 40 %. For CPU, db runs hot (3 cores) but the
    // web-cpu rule only judges containers named web*, and web-1 sits at 160 % of a core.
    let webMem = 50;
    await startAgent(url, 'pi-c', () => [
      { name: 'container_mem_pct', labels: { container: 'web-1', image: 'nginx:1.27' }, value: webMem },
      { name: 'container_mem_pct', labels: { container: 'db', image: 'postgres:16' }, value: 40 },
      { name: 'container_cpu_pct', labels: { container: 'web-1', image: 'nginx:1.27' }, value: 160 },
      { name: 'container_cpu_pct', labels: { container: 'db', image: 'postgres:16' }, value: 300 },
    ]);

    const cpu = await waitFor('web-1 CPU RED', async () => {
      const a = (await alarmsOf(api, 'pi-c')).alarms.find((x) => x.rule_id === 'web-cpu');
      return a?.state === 'red' ? a : null;
    });
    expect(cpu.subject).toBe('container=web-1 image=nginx:1.27');
    expect(cpu.labels).toEqual({ container: 'web-1', image: 'nginx:1.27' });
    webMem = 97;
    const red = await waitFor('web-1 memory RED', async () => {
      const body = await alarmsOf(api, 'pi-c');
      return body.alarms.some((x) => x.rule_id === 'container-memory' && x.state === 'red') ? body : null;
    });
    // Only web-1: db is judged by container-memory and stays OK; web-cpu never judges db.
    expect(red.alarms.map((a) => `${a.rule_id} ${a.subject} ${a.state}`).sort()).toEqual([
      'container-memory container=web-1 image=nginx:1.27 red',
      'web-cpu container=web-1 image=nginx:1.27 red',
    ]);
    expect(red.alarms.find((a) => a.rule_id === 'container-memory')).toMatchObject({
      labels: { container: 'web-1', image: 'nginx:1.27' },
      metric: 'container_mem_pct',
    });
    expect(red.history!.filter((t) => t.subject.includes('container=db'))).toEqual([]);
    expect(red.history!.find((t) => t.rule_id === 'container-memory' && t.to === 'red')?.labels).toEqual({ container: 'web-1', image: 'nginx:1.27' });

    // The notification names the container.
    const call = await waitFor('the webhook call', () => hook.calls.find((c) => c.transition?.to === 'red'));
    expect(call.text).toMatch(/^pi-c: container_mem_pct container=web-1 image=nginx:1\.27 ok → red at 9\d(\.\d)? \(threshold 90\)$/);
    expect(call.transition.labels).toEqual({ container: 'web-1', image: 'nginx:1.27' });
    expect(hook.calls.some((c) => c.text.includes('container=db'))).toBe(false);

    // Back under: it clears, with a resolved message naming it.
    webMem = 60;
    await waitFor('web-1 memory clear', async () => !(await alarmsOf(api, 'pi-c')).alarms.some((x) => x.rule_id === 'container-memory'));
    const resolved = await waitFor('the resolved call', () => hook.calls.find((c) => c.status === 'resolved'));
    expect(resolved.text).toContain('container=web-1');
  });

  it('a failed unit raises its alarm and clears when it recovers; a unit that disappears clears after the stale time', async () => {
    const { url, api } = await startHub([{ id: 'unit-failed', metric: 'service_failed', threshold: 0.5, for: '0s', window: '500ms', horizon: '0' }]);
    let backup = 0;
    let oldUnit = true;
    await startAgent(url, 'pi-s', () => [
      { name: 'service_failed', labels: { unit: 'backup.service' }, value: backup },
      ...(oldUnit ? [{ name: 'service_failed', labels: { unit: 'old@1.service' }, value: 1 }] : []),
      { name: 'service_active', labels: { unit: 'nginx' }, value: 1 },
    ]);
    const states = async () => new Map((await alarmsOf(api, 'pi-s')).alarms.map((a) => [a.subject, a.state]));
    await waitFor('old@1 RED', async () => (await states()).get('unit=old@1.service') === 'red');
    expect((await states()).has('unit=backup.service')).toBe(false);

    backup = 1;
    await waitFor('backup RED', async () => (await states()).get('unit=backup.service') === 'red');
    backup = 0;
    await waitFor('backup cleared', async () => !(await states()).has('unit=backup.service'));

    // old@1.service is no longer listed while the node goes on sending: cleared after the stale time.
    oldUnit = false;
    await waitFor('old@1 cleared', async () => !(await states()).has('unit=old@1.service'), 15_000);
    const history = (await alarmsOf(api, 'pi-s')).history!.filter((t) => t.rule_id === 'unit-failed').reverse();
    expect(history.map((t) => `${t.subject} ${t.from}→${t.to}`)).toEqual([
      'unit=old@1.service ok→red',
      'unit=backup.service ok→red',
      'unit=backup.service red→ok',
      'unit=old@1.service red→ok',
    ]);
    // The node itself never went offline meanwhile.
    expect((await alarmsOf(api, 'pi-s')).alarms).toEqual([]);
  });

  it('refuses an unknown metric, a label the metric does not carry and a bad glob, naming the field, in the API and the rules file', async () => {
    const good = { id: 'mem', metric: 'container_mem_pct', threshold: 90, labels: { container: 'web*' } };
    const { send, api, file } = await startHub([good], { debounceMs: 50, pollMs: 500 });
    const post = await send('POST', '/api/alarms/rules', { id: 'x', metric: 'container_mem_pcx', threshold: 90 });
    expect(post.status).toBe(400);
    expect(post.body.problems).toEqual([{ field: 'metric', problem: expect.stringContaining('unknown metric "container_mem_pcx"') }]);

    const label = await send('POST', '/api/alarms/rules', { id: 'x', metric: 'container_mem_pct', threshold: 90, labels: { unit: 'a*' } });
    expect(label.status).toBe(400);
    expect(label.body.problems).toEqual([{ field: 'labels.unit', problem: 'container_mem_pct carries the labels container, image, not "unit"' }]);

    const glob = await send('PUT', '/api/alarms/rules/mem', { metric: 'container_mem_pct', threshold: 90, labels: { container: '' } });
    expect(glob.status).toBe(400);
    expect(glob.body.problems).toEqual([{ field: 'labels.container', problem: expect.stringContaining('must be a glob') }]);

    const all = await send('PUT', '/api/alarms/rules', { version: 1, rules: [good, { id: 'cpu', metric: 'cpu_pct', threshold: 80, labels: { cpu: '0' } }] });
    expect(all.status).toBe(400);
    expect(all.body.problems).toEqual([{ field: 'rules[1].labels', problem: expect.stringContaining('is only for a labelled metric') }]);

    // A node's own metric takes any label; a custom name must be a series name.
    const custom = await send('POST', '/api/alarms/rules', { id: 'queue', metric: 'custom:queue_depth', threshold: 100, labels: { queue: 'mail' } });
    expect(custom.status).toBe(201);
    const badCustom = await send('POST', '/api/alarms/rules', { id: 'q2', metric: 'custom:queue-depth', threshold: 1 });
    expect(badCustom.body.problems?.[0]?.field).toBe('metric');

    // The same checks on the file: a bad version is not applied and its problems are shown.
    writeFileSync(file, JSON.stringify({ version: 1, rules: [good, { id: 'ro', metric: 'fs_readonly', threshold: 0.5, labels: { mountpoint: '/da\nta' } }] }));
    const rules = await waitFor('the file refused', async () => {
      const body = (await getJson<RulesResponse>(`${api}/api/alarms/rules`)).body;
      return body.file.problems.length ? body : null;
    });
    expect(rules.file.problems).toEqual([{ field: 'rules[1].labels.mountpoint', problem: expect.stringContaining('must be a glob') }]);
    expect(rules.rules.map((r) => r.id)).toEqual(['mem', 'queue']);
  });
});
