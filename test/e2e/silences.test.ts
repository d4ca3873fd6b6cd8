// Silences on a real hub (embedded broker, SQLite, HTTP) with two real agents whose OS sampler is
// scripted (a disk over 80 %) and a webhook receiver on 127.0.0.1: a silence by node pattern holds
// the notifications of the nodes it matches and no other's; silences by rule, by tag, for any
// duration or to an end time, each with its reason, are listed and removed; a bad request gets
// every problem with its field. The matcher and the request check are also tested as tables.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { HubService } from '../../cli/hub-service.ts';
import { checkSilence, SilenceMatcher } from '../../hub/alarms/silences.ts';
import type { AlarmsResponse, SilenceInfo } from '../../shared/alarm-types.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler, stubBirthOf } from '../helpers/stub-sampler.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);

const birth = stubBirthOf(100);

const HOUR = 3_600_000;

describe('silences', () => {
  it("by node pattern hold only the matching nodes' notifications; by rule, tag and end time are listed with their reason and removed", async () => {
    const { url } = await startBroker();
    const hook = await startWebhookReceiver();
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'alarm-rules.json'),
      JSON.stringify({
        version: 1,
        rules: [
          {
            id: 'disk',
            metric: 'fs_pct',
            threshold: 80,
            for: '300ms',
            window: '300ms',
            trend_window: '5s',
            notify: { webhook: hook.url, group_wait: '0s', group_interval: '0s' },
          },
          { id: 'offline', metric: 'offline' },
        ],
      }),
    );
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, alarms: { tickMs: 100, notifier: { pollMs: 100 } } });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };

    const before = Date.now();
    const byPattern = await send('POST', '/api/alarms/silence', { node_pattern: 'pi-*', for: '90m', reason: 'pis being re-imaged' });
    expect(byPattern.status).toBe(201);
    const silence = byPattern.body['silence'] as SilenceInfo;
    expect(silence).toMatchObject({ node: null, node_pattern: 'pi-*', tag: null, rule_id: null, reason: 'pis being re-imaged', created_by: null });
    expect(silence.until_ms - silence.from_ms).toBe(1.5 * HOUR);
    expect(silence.from_ms).toBeGreaterThanOrEqual(before);

    for (const node of ['pi-full', 'ci-full']) {
      const sampler = scriptedSampler(() => ({ filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 29e9, used_pct: 91 }] }));
      const agent = new Agent({ brokerUrl: url, node, intervalMs: 100, processIntervalMs: 60_000, sampler, birthRecord: birth, log: quietLog });
      await agent.start();
      cleanup(() => agent.stop());
    }
    const red = await waitFor('both nodes RED', async () => {
      const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms`);
      const disks = body.alarms.filter((a) => a.rule_id === 'disk' && a.state === 'red');
      return disks.length === 2 ? disks : null;
    });
    expect(red.find((a) => a.node === 'pi-full')!.silenced_until_ms).toBe(silence.until_ms);
    expect(red.find((a) => a.node === 'ci-full')!.silenced_until_ms).toBeNull();
    await waitFor('the webhook call for ci-full', () => hook.calls.length > 0);
    // Enough polls of the notifier for a message about pi-full to have gone too, had it been due.
    await new Promise((r) => setTimeout(r, 1000));
    const notified = hook.calls.flatMap((c) => c.firing.map((t) => t.node));
    expect(notified).toContain('ci-full');
    expect(notified).not.toContain('pi-full');

    const end = Date.now() + 3 * 86_400_000;
    const byRule = await send('POST', '/api/alarms/silence', { rule_id: 'disk', until_ms: end, reason: 'disk clean-up week' });
    expect(byRule.status).toBe(201);
    expect(byRule.body['silence']).toMatchObject({ rule_id: 'disk', until_ms: end, node: null, node_pattern: null });
    const byTag = await send('POST', '/api/alarms/silence', { tag: 'site-b', rule_id: 'offline', for: '3d', reason: 'site b power work' });
    expect(byTag.status).toBe(201);
    await waitFor(
      'ci-full silenced by the rule',
      async () => (await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms.find((a) => a.node === 'ci-full')?.silenced_until_ms === end,
    );

    const listed = (await getJson<{ silences: SilenceInfo[] }>(`${api}/api/alarms/silences`)).body.silences;
    expect(listed.map((s) => [s.node_pattern ?? s.tag ?? s.rule_id, s.reason])).toEqual([
      ['pi-*', 'pis being re-imaged'],
      ['disk', 'disk clean-up week'],
      ['site-b', 'site b power work'],
    ]);

    const bad = await send('POST', '/api/alarms/silence', {
      node: 'pi 1',
      node_pattern: 'pi-*',
      rule_id: 'dsk',
      for: 'a while',
      reason: 'x'.repeat(501),
      by: 'mallory',
    });
    expect(bad.status).toBe(400);
    expect(bad.body['problems'].map((p: { field: string }) => p.field)).toEqual(['node', 'rule_id', 'for', 'reason', 'by', 'node_pattern']);
    expect(bad.body['error']).toContain('no rule with id "dsk"');

    expect((await send('DELETE', `/api/alarms/silences/${silence.id}`)).status).toBe(200);
    expect((await send('DELETE', `/api/alarms/silences/${silence.id}`)).status).toBe(404);
    const left = (await getJson<{ silences: SilenceInfo[] }>(`${api}/api/alarms/silences`)).body.silences;
    expect(left.map((s) => s.reason)).toEqual(['disk clean-up week', 'site b power work']);
    // pi-full is now held by the rule's silence only.
    await waitFor(
      'pi-full held by the rule silence',
      async () => (await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms.find((a) => a.node === 'pi-full')?.silenced_until_ms === end,
    );
  }, 60_000);
});

describe('the silence matcher', () => {
  const at = 1_000_000;
  const s = (id: number, fields: Partial<SilenceInfo>): SilenceInfo => ({
    id,
    node: null,
    node_pattern: null,
    tag: null,
    rule_id: null,
    subject: null,
    from_ms: at - 1,
    until_ms: at + id * 1000,
    reason: null,
    created_by: null,
    ...fields,
  });
  const tags: Record<string, string[]> = { 'pi-1': ['site-b'], 'ci-1': [] };
  const matcher = new SilenceMatcher(
    [
      s(1, { node: 'pi-1', rule_id: 'cpu' }),
      s(2, { node_pattern: 'ci-?' }),
      s(3, { tag: 'site-b', rule_id: 'disk', subject: '/data' }),
      s(4, { rule_id: 'offline', from_ms: at + 10 }),
      s(5, { rule_id: 'temp', until_ms: at }),
    ],
    (node) => tags[node] ?? [],
  );
  it.each([
    ['pi-1', 'cpu', '', at + 1000],
    ['pi-1', 'memory', '', null],
    ['pi-2', 'cpu', '', null],
    ['ci-1', 'memory', '', at + 2000],
    ['ci-12', 'memory', '', null],
    ['pi-1', 'disk', '/data', at + 3000],
    ['pi-1', 'disk', '/', null],
    ['ci-1', 'offline', '', at + 2000], // by its pattern; the offline silence starts later
    ['pi-1', 'offline', '', null],
    ['pi-1', 'temp', '', null], // ended
  ] as const)('%s %s %s → %s', (node, rule, subject, expected) => {
    expect(matcher.until(node, rule, subject, at)).toBe(expected);
  });

  it('checks a request: one target, a known rule, an end in the future and within a year', () => {
    const ctx = { now: at, ruleIds: ['cpu', 'disk'] };
    const fields = (req: unknown) => {
      const r = checkSilence(req, ctx);
      return 'problems' in r ? r.problems.map((p) => p.field) : r.silence;
    };
    expect(fields({ node: 'pi-1', rule_id: 'cpu', for: '90m', reason: 'r' })).toMatchObject({ node: 'pi-1', until_ms: at + 90 * 60_000 });
    expect(fields({ until_ms: at + 1 })).toMatchObject({ node: null, rule_id: null, until_ms: at + 1 });
    expect(fields({ tag: 'Site B', for: '1h' })).toEqual(['tag']);
    expect(fields({ node: 'pi-1', tag: 'site-b', for: '1h' })).toEqual(['tag']);
    expect(fields({ for: '1h', until_ms: at + 10 })).toEqual(['for']);
    expect(fields({ until_ms: at })).toEqual(['until_ms']);
    expect(fields({ for: '400d' })).toEqual(['for']);
    expect(fields({ subject: '/data', for: '1h' })).toEqual(['subject']);
    expect(fields({})).toEqual(['for']);
    expect(fields([])).toEqual(['']);
  });
});
