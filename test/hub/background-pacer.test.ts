// The pacing of the writer thread's background work, on an injected clock: what each pause waits
// after a slice, by how much of the thread ingest's writes took.
import { describe, expect, it } from 'vitest';
import { BACKGROUND_WAIT_RATIO, BackgroundPacer, HEAVY_INGEST_SHARE, MAX_BACKGROUND_WAIT_MS } from '../../hub/storage/sqlite/background-pacer.ts';

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

const HEAVY_MS = HEAVY_INGEST_SHARE * 1000;

describe('background pacer', () => {
  it.each([
    // [ms of writes in the second before the slice, the slice's ms, the wait after it]
    [0, 30, 0], // no writes: at once
    [HEAVY_MS - 1, 30, 0], // a fleet's usual writes
    [HEAVY_MS, 30, 30 * BACKGROUND_WAIT_RATIO],
    [HEAVY_MS, 500, MAX_BACKGROUND_WAIT_MS], // a long slice waits no longer than the cap
  ])('after %s ms of writes, a slice of %s ms waits %s ms', async (writes, slice, expected) => {
    const { pacer, waits, advance } = pacerOnClock();
    // The writes fill the second before the slice, in ten of them.
    for (let i = 0; i < 10; i++) {
      pacer.wrote(writes / 10);
      advance(100);
    }
    pacer.begin();
    advance(slice);
    await pacer.pause();
    expect(waits).toEqual([expected]);
  });

  it('stops holding the work back a second after heavy writes end, and times each slice from the end of the last pause', async () => {
    const { pacer, waits, advance } = pacerOnClock();
    pacer.wrote(HEAVY_MS);
    pacer.begin();
    advance(20);
    await pacer.pause(); // the writes are this second's
    advance(5);
    await pacer.pause(); // not the wait before: only the 5 ms slice counts
    advance(2000);
    await pacer.pause(); // two seconds on, no writes since
    expect(waits).toEqual([20 * BACKGROUND_WAIT_RATIO, 5 * BACKGROUND_WAIT_RATIO, 0]);
  });
});
