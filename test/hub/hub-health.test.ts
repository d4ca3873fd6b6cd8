// The health monitor on an injected clock: a failing store is logged when it starts, again only
// once a minute however often writes fail, and when it ends; listeners hear starts and ends only;
// ingest counts as behind only once samples have waited past the limit with nothing stored.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HubHealthMonitor, type HealthProblem } from '../../hub/hub-health.ts';
import type { IngestStats } from '../../hub/ingest/ingest.ts';
import { recordingLog } from '../helpers/recording-log.ts';

const monitors: HubHealthMonitor[] = [];
afterEach(() => monitors.splice(0).forEach((m) => m.stop()));

function monitorOnClock() {
  let nowMs = 1_000_000;
  const source = { stats: { received: 0, stored: 0, duplicates: 0, rejected: 0, rejectedByReason: {} } as unknown as IngestStats, pending: 0 };
  const { log, lines } = recordingLog();
  const monitor = new HubHealthMonitor(source, {
    dbPath: null,
    log,
    brokerUrl: 'mqtt://127.0.0.1:1',
    limits: { ingestLagMs: 15_000 },
    everyMs: 5,
    now: () => nowMs,
  });
  monitors.push(monitor);
  const changes: HealthProblem['what'][][] = [];
  monitor.onChange((problems) => changes.push(problems.map((p) => p.what)));
  monitor.start();
  /** Moves the clock and lets the monitor tick a few times. */
  const advance = async (ms: number) => {
    nowMs += ms;
    await sleep(30);
  };
  return { monitor, source, lines, changes, advance };
}

describe('HubHealthMonitor', () => {
  it('logs a failing store once, again once a minute, and when it ends', async () => {
    const { monitor, lines, changes, advance } = monitorOnClock();
    const messages = () => lines.map((l) => l.msg);
    for (let i = 0; i < 200; i++) monitor.writes.failed(new Error('/data/remonitor.db: disk I/O error'));
    await advance(1000);
    expect(monitor.report()).toEqual({
      ok: false,
      problems: [
        {
          what: 'store',
          detail: expect.stringMatching(/^200 writes of samples failed since \S+; the last: \/data\/remonitor\.db: disk I\/O error$/),
          since_ms: 1_000_000,
        },
      ],
    });
    expect(messages()).toEqual(['hub unhealthy: store (logged again once a minute while it lasts)']);
    for (let s = 0; s < 5; s++) {
      monitor.writes.failed(new Error('/data/remonitor.db: disk I/O error'));
      await advance(10_000);
    }
    expect(messages()).toHaveLength(1); // 51 s later: still one line
    await advance(10_000);
    expect(messages()).toEqual(['hub unhealthy: store (logged again once a minute while it lasts)', 'hub still unhealthy: store']);
    monitor.writes.stored();
    await advance(1000);
    expect(monitor.report()).toEqual({ ok: true });
    expect(messages().at(-1)).toBe('hub healthy again: store');
    expect(changes).toEqual([['store'], []]);
  });

  it('calls ingest behind once samples have waited past the limit with nothing stored', async () => {
    const { monitor, source, advance } = monitorOnClock();
    monitor.writes.stored();
    await advance(60_000); // an idle hub: nothing waits, nothing is behind
    source.pending = 5;
    await advance(1000);
    expect(monitor.report()).toEqual({ ok: true }); // the first sample after a long quiet is not late
    await advance(14_000);
    expect(monitor.report()).toEqual({ ok: true });
    await advance(1000);
    expect(monitor.report()).toEqual({
      ok: false,
      problems: [{ what: 'ingest', detail: '5 samples wait to be stored and none was stored for 15 s', since_ms: expect.any(Number) }],
    });
    monitor.writes.stored();
    expect(monitor.report()).toEqual({ ok: true });
  });
});
