// The pacing of the writer thread's background work, on an injected clock: what each pause waits
// after a slice, with and without ingest's writes coming in.
import { describe, expect, it } from 'vitest';
import { BACKGROUND_WAIT_RATIO, BackgroundPacer, INGEST_RECENT_MS, MAX_BACKGROUND_WAIT_MS } from '../../hub/storage/sqlite/background-pacer.ts';

function pacerOnClock() {
  let now = 10_000;
  const waits: number[] = [];
  const pacer = new BackgroundPacer({
    now: () => now,
    wait: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  return { pacer, waits, advance: (ms: number) => void (now += ms) };
}

describe('background pacer', () => {
  it.each([
    // [ms since the last write, the slice's ms, the wait after it]
    [null, 30, 0], // no write ever: at once
    [INGEST_RECENT_MS + 1, 30, 0], // ingest stopped a while ago
    [0, 30, 30 * BACKGROUND_WAIT_RATIO],
    [INGEST_RECENT_MS - 1, 10, 10 * BACKGROUND_WAIT_RATIO],
    [0, 500, MAX_BACKGROUND_WAIT_MS], // a long slice waits no longer than the cap
  ])('a write %s ms before, after a slice of %s ms, waits %s ms', async (sinceWrite, slice, expected) => {
    const { pacer, waits, advance } = pacerOnClock();
    if (sinceWrite === null) {
      pacer.begin();
      advance(slice);
    } else if (sinceWrite >= slice) {
      pacer.wrote();
      advance(sinceWrite - slice);
      pacer.begin();
      advance(slice);
    } else {
      pacer.begin();
      advance(slice - sinceWrite);
      pacer.wrote();
      advance(sinceWrite);
    }
    await pacer.pause();
    expect(waits).toEqual([expected]);
  });

  it('times each slice from the end of the last pause, so its wait is not counted as work', async () => {
    const { pacer, waits, advance } = pacerOnClock();
    pacer.begin();
    pacer.wrote();
    advance(20);
    await pacer.pause();
    pacer.wrote();
    advance(5);
    await pacer.pause();
    expect(waits).toEqual([20 * BACKGROUND_WAIT_RATIO, 5 * BACKGROUND_WAIT_RATIO]);
  });
});
