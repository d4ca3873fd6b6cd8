import { describe, expect, it } from 'vitest';
import { typicalStep, withGaps } from '../../hub/storage/series-gaps.ts';

describe('typicalStep', () => {
  it.each([
    [[], 0],
    [[5], 0],
    [[0, 1000, 2000, 3000], 1000],
    [[0, 1000, 2000, 60_000, 61_000], 1000], // one hole does not move the median
  ])('%j → %i', (times, step) => expect(typicalStep(times)).toBe(step));
});

describe('withGaps', () => {
  it.each([
    { name: 'no gap', times: [0, 1000, 2000], col: [1, 2, 3], step: 1000, outTimes: [0, 1000, 2000], outCol: [1, 2, 3] },
    { name: 'one gap', times: [0, 1000, 9000], col: [1, 2, 3], step: 1000, outTimes: [0, 1000, 2000, 9000], outCol: [1, 2, null, 3] },
    { name: 'jitter under 2.5×', times: [0, 2400, 4800], col: [1, 2, 3], step: 1000, outTimes: [0, 2400, 4800], outCol: [1, 2, 3] },
    { name: 'step unknown', times: [0, 99_000], col: [1, 2], step: 0, outTimes: [0, 99_000], outCol: [1, 2] },
    { name: 'empty', times: [], col: [], step: 1000, outTimes: [], outCol: [] },
  ])('$name', ({ times, col, step, outTimes, outCol }) => {
    const out = withGaps(times, [col], step);
    expect(out.times).toEqual(outTimes);
    expect(out.columns[0]).toEqual(outCol);
  });
});
