// Flapping and `for` through the real alarm engine (its live feed, its SQLite queue, a real broker for
// its retained topics, a webhook receiver on 127.0.0.1) on an injected clock: the test walks it
// sample by sample instead of sleeping. And the flap tracker alone, as a table.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../hub/alarms/engine.ts';
import { FlapTracker, type FlapParams } from '../../../hub/alarms/flapping.ts';
import { LiveFeed, sampleEvent } from '../../../hub/live-feed.ts';
import { toPoint } from '../../../hub/storage/sample-point.ts';
import type { Sample } from '../../../protocol/index.ts';
import type { AlarmLevel, AlarmRuleInput } from '../../../shared/alarm-types.ts';
import { sampleAt } from '../../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../../helpers/parts.ts';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.ts';

afterEach(runCleanups);

const S = 1000;
const M = 60 * S;

describe('FlapTracker', () => {
  const P: FlapParams = { flapChanges: 4, flapWindowMs: 30 * M, flapStableMs: 10 * M };
  type Step = [atMin: number, event: AlarmLevel | 'settle?', expect: boolean | AlarmLevel | null, flapping: boolean];

  it.each<[string, Step[]]>([
    [
      '3 changes in 30 min: all told',
      [
        [0, 'red', true, false],
        [5, 'ok', true, false],
        [10, 'red', true, false],
      ],
    ],
    [
      'the 4th change within 30 min is held, as is every one after',
      [
        [0, 'red', true, false],
        [2, 'ok', true, false],
        [4, 'red', true, false],
        [6, 'ok', false, true],
        [8, 'red', false, true],
      ],
    ],
    [
      '4 changes spread over more than 30 min: not flapping',
      [
        [0, 'red', true, false],
        [11, 'ok', true, false],
        [22, 'red', true, false],
        [33, 'ok', true, false],
      ],
    ],
    [
      'settles after 10 min without a change, telling what was last told',
      [
        [0, 'red', true, false],
        [2, 'ok', true, false],
        [4, 'red', true, false],
        [6, 'ok', false, true],
        [15, 'settle?', null, true],
        [16, 'settle?', 'red', false],
        [17, 'settle?', null, false],
      ],
    ],
    [
      'flaps again at once while its changes are recent',
      [
        [0, 'red', true, false],
        [2, 'ok', true, false],
        [4, 'red', true, false],
        [6, 'ok', false, true],
        [16, 'settle?', 'red', false],
        [18, 'red', false, true],
      ],
    ],
  ])('%s', (_name, steps) => {
    const flap = new FlapTracker('ok');
    let state: AlarmLevel = 'ok';
    for (const [atMin, event, expected, flapping] of steps) {
      if (event === 'settle?') expect(flap.settle(state, atMin * M, P), `settle at ${atMin} min`).toBe(expected);
      else {
        state = event;
        expect(flap.change(event, atMin * M, P), `${event} at ${atMin} min`).toBe(expected);
      }
      expect(flap.flapping, `flapping at ${atMin} min`).toBe(flapping);
    }
  });

  it('flap_changes 0 never flaps', () => {
    const flap = new FlapTracker('ok');
    for (let i = 0; i < 50; i++) expect(flap.change(i % 2 ? 'ok' : 'red', i * S, { ...P, flapChanges: 0 })).toBe(true);
  });
});

/** An engine with the given rules on an injected clock; `feed(s, sample)` publishes one live sample of `node` at second s. */
async function engineWith(rules: AlarmRuleInput[], tickMs = 3_600_000) {
  const { url } = await startBroker();
  const dir = tempDir();
  const feed = new LiveFeed();
  const t0 = Date.now();
  let nowMs = t0;
  const engine = new AlarmEngine({
    brokerUrl: url,
    feed,
    log: quietLog,
    dbPath: join(dir, 'remonitor.db'),
    rulesFile: join(dir, 'alarm-rules.json'),
    now: () => nowMs,
    tickMs,
    seedRules: () => rules,
    notifier: { pollMs: 3_600_000 },
  });
  await engine.start();
  cleanup(() => engine.stop());
  return {
    engine,
    t0,
    setClock(s: number) {
      nowMs = t0 + s * S;
    },
    status(node: string, s: number, status: 'online' | 'offline') {
      nowMs = t0 + s * S;
      feed.publish({ type: 'status', node, status });
    },
    async feed(node: string, s: number, overrides: Partial<Sample>) {
      nowMs = t0 + s * S;
      const sample = sampleAt(s, nowMs, overrides);
      feed.publish(sampleEvent(node, sample, toPoint(sample)));
      engine.notifier.tick();
      await engine.notifier.settled();
    },
    state: (node: string, rule: string, subject = '') => engine.active().find((a) => a.node === node && a.rule_id === rule && a.subject === subject),
  };
}

describe('flapping through the engine', () => {
  it('a value oscillating across the threshold is marked flapping and told once when it settles, not every time', async () => {
    const hook = await startWebhookReceiver();
    // Two rules alike but for flapping, each its own notification group. A 1-minute group interval
    // so the cost of telling every change shows within the hour.
    const base = { metric: 'cpu_pct', threshold: 80, for: '0s', window: '10s', horizon: '0', notify: { webhook: hook.url, group_interval: '1m' } };
    const { engine, t0, feed, state } = await engineWith([
      { id: 'cpu', ...base },
      { id: 'cpu-unguarded', ...base, flap_changes: 0 },
    ]);

    // 95 % and 20 % in turns of 2 minutes for 40 minutes (20 changes), then 95 % for 20 minutes.
    let flappingSince: number | null = null;
    let settledAt: number | null = null;
    for (let s = 0; s <= 60 * 60; s += 10) {
      const hot = s >= 40 * 60 || Math.floor(s / 120) % 2 === 0;
      await feed('pi-1', s, { cpu_pct: hot ? 95 : 20 });
      const cpu = state('pi-1', 'cpu');
      if (cpu?.flapping && flappingSince === null) flappingSince = s;
      if (flappingSince !== null && settledAt === null && cpu && !cpu.flapping) settledAt = s;
    }
    await engine.notifier.settled();
    // Flapping from the 4th change (to OK at 6 min), listed so from its next RED (8 min: the list
    // holds the alarms not OK); no longer 10 minutes after the last change (at 40 min).
    expect(flappingSince).toBe(8 * 60);
    expect(settledAt).toBe(50 * 60);
    expect(state('pi-1', 'cpu')).toMatchObject({ state: 'red', flapping: false });

    const guarded = hook.calls.filter((c) => c.rule?.id === 'cpu');
    const unguarded = hook.calls.filter((c) => c.rule?.id === 'cpu-unguarded');
    console.log(`[flapping] one hour oscillating: ${guarded.length} messages with flapping detection, ${unguarded.length} without`);
    // Before it was known to flap: its first RED, then the changes of the next minutes. While
    // flapping: nothing. Settled: one message, saying RED.
    expect(guarded.length).toBeLessThanOrEqual(4);
    expect(unguarded.length).toBeGreaterThan(15);
    const last = guarded[guarded.length - 1]!;
    // From RED, the state last told (before the 4th change), to RED, the state it settled in.
    expect(last).toMatchObject({ status: 'firing', transition: { from: 'red', to: 'red' } });
    // Nothing told of the 17 changes while it flapped (6–40 min).
    expect(guarded.filter((c) => c.transition.ts_ms >= t0 + 6 * M && c.transition.ts_ms < t0 + 50 * M)).toEqual([]);
    // Every change is still in the history: flapping mutes the notifications only.
    expect((await engine.history(0)).filter((t) => t.rule_id === 'cpu')).toHaveLength(21);
  }, 60_000);
});

describe('for, per metric form', () => {
  it('each filesystem and a process: RED only after `for` of their own, restarted by a gap', async () => {
    const { feed, state } = await engineWith([
      { id: 'disk', metric: 'fs_pct', threshold: 80, for: '1m', window: '10s', horizon: '0' },
      { id: 'influx', metric: 'proc_rss_bytes:influxd', threshold: 500e6, for: '1m', window: '10s', horizon: '0' },
    ]);
    const proc = (rss: number) => ({ pid: 3120, name: 'influxd', cpu_pct: 1, rss_bytes: rss, threads: 15 });
    const reds: Record<string, number> = {};
    for (let s = 0; s <= 20 * 60; s += 10) {
      await feed('pi-1', s, {
        filesystems: [
          { mount: '/', size_bytes: 1e10, used_bytes: 9e9, used_pct: 90 },
          // Over from 30 s.
          { mount: '/data', size_bytes: 1e10, used_bytes: 1e9, used_pct: s >= 30 ? 95 : 10 },
          { mount: '/boot', size_bytes: 1e9, used_bytes: 1e8, used_pct: 10 },
        ],
        // influxd over 500 MB from 0–30 s, out of the top lists for 10 minutes, then over from 11 min.
        top_cpu: [],
        top_mem: s < 40 || s >= 11 * 60 ? [proc(600e6)] : [],
      });
      for (const [rule, subject] of [
        ['disk', '/'],
        ['disk', '/data'],
        ['disk', '/boot'],
        ['influx', ''],
      ] as const) {
        if (state('pi-1', rule, subject)?.state === 'red') reds[`${rule} ${subject}`.trim()] ??= s;
      }
    }
    expect(reds).toEqual({ 'disk /': 60, 'disk /data': 90, influx: 12 * 60 });
  }, 60_000);
});

describe('for on an offline rule', () => {
  it('a node that said offline raises it only once it has stayed offline for `for`', async () => {
    // The engine's silence timer runs every 20 ms of real time and reads the injected clock.
    const { engine, feed, status, setClock, state } = await engineWith([{ id: 'offline', metric: 'offline', for: '2m' }], 20);
    await feed('pi-3', 0, {});
    status('pi-3', 10, 'offline');
    setClock(100);
    // Ten ticks later, 90 s after it went: not yet.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(state('pi-3', 'offline')).toBeUndefined();
    setClock(131);
    await waitFor('offline after 2 minutes', () => state('pi-3', 'offline')?.state === 'offline');
    // A reboot shorter than `for` raises nothing: back at 140 s, gone again from 150 s to 200 s.
    status('pi-3', 140, 'online');
    expect(state('pi-3', 'offline')).toBeUndefined();
    status('pi-3', 150, 'offline');
    setClock(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(state('pi-3', 'offline')).toBeUndefined();
    expect((await engine.history(0)).filter((t) => t.rule_id === 'offline').map((t) => `${t.from}>${t.to}`)).toEqual(['offline>ok', 'ok>offline']);
  }, 30_000);
});
