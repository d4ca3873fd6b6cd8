// The time rule of PROTOCOL.md ("Time") as a table: where the hub stores a sample, given its ts_ms,
// when it arrived, whether it is a replay and how old the agent says it is.
import { describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_MS, EARLIEST_TS_MS } from '../../protocol/index.ts';
import { placeSample, SampleClocks, type Placement, type TimeEvidence } from '../../hub/ingest/sample-time.ts';

const R = Date.UTC(2025, 5, 1, 12, 0, 0); // the hub's clock at arrival
const MIN = 60_000;
const YEAR = 365.25 * 24 * 3600 * 1000;
const live = (tsMs: number): TimeEvidence => ({ tsMs, receivedMs: R, historical: false });
const replay = (tsMs: number, ageMs?: number): TimeEvidence => ({ tsMs, receivedMs: R, historical: true, ...(ageMs === undefined ? {} : { ageMs }) });

describe('placeSample', () => {
  it.each<[string, TimeEvidence, Placement]>([
    ['live, on time', live(R - 40), { tsMs: R - 40, skewMs: -40, clock: 'node' }],
    [
      'live, 1 min 59 s ahead: within the tolerance',
      live(R + CLOCK_TOLERANCE_MS - 1000),
      { tsMs: R + CLOCK_TOLERANCE_MS - 1000, skewMs: CLOCK_TOLERANCE_MS - 1000, clock: 'node' },
    ],
    ['live, exactly the tolerance behind', live(R - CLOCK_TOLERANCE_MS), { tsMs: R - CLOCK_TOLERANCE_MS, skewMs: -CLOCK_TOLERANCE_MS, clock: 'node' }],
    ['live, 2 min 1 s ahead', live(R + CLOCK_TOLERANCE_MS + 1000), { tsMs: R, skewMs: CLOCK_TOLERANCE_MS + 1000, clock: 'hub' }],
    ['live, 3 days behind (booted at its last shutdown)', live(R - 3 * 86_400_000), { tsMs: R, skewMs: -3 * 86_400_000, clock: 'hub' }],
    ['live, ts_ms 0 (1970)', live(0), { tsMs: R, skewMs: -R, clock: 'hub' }],
    ['live, ts_ms 1', live(1), { tsMs: R, skewMs: 1 - R, clock: 'hub' }],
    ['live, year 2000', live(Date.UTC(2000, 0, 1)), { tsMs: R, skewMs: Date.UTC(2000, 0, 1) - R, clock: 'hub' }],
    ['live, year 3000', live(Date.UTC(3000, 0, 1)), { tsMs: R, skewMs: Date.UTC(3000, 0, 1) - R, clock: 'hub' }],
    ['live, now + 10 years', live(R + 10 * YEAR), { tsMs: R, skewMs: 10 * YEAR, clock: 'hub' }],
    ['live, 2^53 − 1', live(Number.MAX_SAFE_INTEGER), { tsMs: R, skewMs: Number.MAX_SAFE_INTEGER - R, clock: 'hub' }],
    ['replay with age, its ts_ms right', replay(R - 10 * MIN, 10 * MIN), { tsMs: R - 10 * MIN, skewMs: 0, clock: 'node' }],
    ['replay with age, taken in 1970 before NTP synced', replay(42_000, 10 * MIN), { tsMs: R - 10 * MIN, skewMs: 42_000 - (R - 10 * MIN), clock: 'hub' }],
    ['replay with age, taken a year ahead', replay(R + YEAR - 5 * MIN, 5 * MIN), { tsMs: R - 5 * MIN, skewMs: YEAR, clock: 'hub' }],
    ['replay without age, a day old: trusted', replay(R - 86_400_000), { tsMs: R - 86_400_000, skewMs: null, clock: 'node' }],
    ['replay without age, on 2020-01-01 exactly: possible', replay(EARLIEST_TS_MS), { tsMs: EARLIEST_TS_MS, skewMs: null, clock: 'node' }],
    ['replay without age, within the tolerance ahead: possible', replay(R + CLOCK_TOLERANCE_MS), { tsMs: R + CLOCK_TOLERANCE_MS, skewMs: null, clock: 'node' }],
    ['replay without age, 1970: at its arrival', replay(0), { tsMs: R, skewMs: null, clock: 'arrival' }],
    ['replay without age, 2019-12-31: at its arrival', replay(EARLIEST_TS_MS - 1), { tsMs: R, skewMs: null, clock: 'arrival' }],
    ['replay without age, past the tolerance ahead: at its arrival', replay(R + CLOCK_TOLERANCE_MS + 1), { tsMs: R, skewMs: null, clock: 'arrival' }],
    ['replay without age, 2^53 − 1: at its arrival', replay(Number.MAX_SAFE_INTEGER), { tsMs: R, skewMs: null, clock: 'arrival' }],
    ['live with an age (another client): the age counts', { ...live(R - 30_000), ageMs: 30_000 }, { tsMs: R - 30_000, skewMs: 0, clock: 'node' }],
  ])('%s', (_, evidence, expected) => {
    expect(placeSample(evidence)).toEqual(expected);
  });

  it.each([0, 1, Date.UTC(2000, 0, 1), Date.UTC(3000, 0, 1), R + 10 * YEAR, Number.MAX_SAFE_INTEGER, R - 7 * 86_400_000])(
    'never stores before 2020 or past the tolerance ahead of the hub (ts_ms %d, live and replayed)',
    (tsMs) => {
      for (const e of [live(tsMs), replay(tsMs), replay(tsMs, 0), replay(tsMs, 3_600_000)]) {
        for (const correcting of [false, true]) {
          const { tsMs: stored } = placeSample(e, correcting);
          expect(stored).toBeGreaterThanOrEqual(EARLIEST_TS_MS);
          expect(stored).toBeLessThanOrEqual(R + CLOCK_TOLERANCE_MS);
        }
      }
    },
  );

  it('while a node is being corrected, corrects down to half the tolerance', () => {
    const ninetyS = live(R + 90_000);
    expect(placeSample(ninetyS, false).clock).toBe('node');
    expect(placeSample(ninetyS, true)).toEqual({ tsMs: R, skewMs: 90_000, clock: 'hub' });
    expect(placeSample(live(R + 59_000), true).clock).toBe('node');
  });
});

describe('SampleClocks', () => {
  it('learns from live samples that a clock is off, and keeps correcting until it is back within half the tolerance', () => {
    const clocks = new SampleClocks();
    const at = (node: string, skewMs: number, historical = false) => clocks.place(node, { tsMs: R + skewMs, receivedMs: R, historical }).clock;
    // A clock drifting across the tolerance: corrected from the first sample past it, and still at
    // 90 s and 61 s (so that its samples do not jump back and forth with each sample's network delay).
    expect([119_000, 121_000, 119_000, 90_000, 61_000, 59_000, 90_000].map((skew) => at('drifting', skew))).toEqual([
      'node',
      'hub',
      'hub',
      'hub',
      'hub',
      'node',
      'node',
    ]);
    // A replay tells of the past: it does not change what the node's clock is now.
    at('replaying', 200_000);
    expect(clocks.place('replaying', { tsMs: R - 5 * MIN, receivedMs: R, historical: true, ageMs: 5 * MIN }).clock).toBe('node');
    expect(at('replaying', 90_000)).toBe('hub');
    expect(at('other', 90_000)).toBe('node'); // per node
  });
});
