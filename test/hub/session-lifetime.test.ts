// When a session ends by itself (hub/sessions/session-lifetime.ts), as a table: its target, its interval,
// when a live process was last seen, and the time of a sample with none.
import { describe, expect, it } from 'vitest';
import { endGraceMs, processesGone } from '../../hub/sessions/session-lifetime.ts';

const T0 = 1_700_000_000_000;

const TABLE: [string, string, number, number | null, number, boolean][] = [
  // what, target, interval, last live (ms after T0; null: never), now (ms after T0), gone
  ['cmdline: gone 1 s, grace 3 s', 'cmdline:app.js', 250, 1000, 2000, false],
  ['cmdline: gone exactly 3 s', 'cmdline:app.js', 250, 1000, 4000, true],
  ['name: gone 2.9 s at 1 s intervals', 'name:nginx', 1000, 1000, 3900, false],
  ['name: gone 3 intervals of 5 s', 'name:nginx', 5000, 0, 15_000, true],
  ['name: gone 14 s of a 15 s grace', 'name:nginx', 5000, 0, 14_000, false],
  ['cmdline: never matched yet, a minute on: keeps waiting', 'cmdline:app.js', 1000, null, 60_000, false],
  ['pid: gone 3 s', 'pid:42', 1000, 0, 3000, true],
  ['pid: never there, grace over', 'pid:42', 1000, null, 3000, true],
  ['pid: never there, grace not over', 'pid:42', 1000, null, 2000, false],
];

describe('session lifetime', () => {
  it.each(TABLE)('%s', (_what, target, interval, lastLive, now, gone) => {
    expect(processesGone({ target, interval_ms: interval, last_live_ms: lastLive === null ? null : T0 + lastLive, first_sample_ms: T0 }, T0 + now)).toBe(gone);
  });

  it('waits 3 intervals, and never less than 3 s', () => {
    expect([250, 1000, 2000, 60_000].map(endGraceMs)).toEqual([3000, 3000, 6000, 180_000]);
  });
});
