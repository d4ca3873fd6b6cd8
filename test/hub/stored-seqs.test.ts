// A boot's stored seqs (hub/storage/stored-seqs.ts): what is a duplicate, and the form read back from a row.
import { describe, expect, it } from 'vitest';
import { addStoredSeq, holdsSeq, storedSeqsOf, type StoredSeqs } from '../../hub/storage/stored-seqs.ts';

describe('stored seqs', () => {
  it('holds what was added, in any order, and nothing else', () => {
    const seqs: StoredSeqs = { next: 0, above: [] };
    for (const seq of [5, 6, 0, 1, 9, 2]) addStoredSeq(seqs, seq);
    expect(seqs).toEqual({
      next: 3,
      above: [
        [5, 6],
        [9, 9],
      ],
    });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((s) => holdsSeq(seqs, s))).toEqual([0, 1, 2, 5, 6, 9]);
    for (const seq of [3, 4, 7, 8]) addStoredSeq(seqs, seq);
    expect(seqs).toEqual({ next: 10, above: [] });
  });

  it.each<[string, number, [number, number][], StoredSeqs]>([
    ['nothing', 0, [], { next: 0, above: [] }],
    ['one run from 0', 0, [[0, 99]], { next: 100, above: [] }],
    [
      'runs out of order, one from 0',
      0,
      [
        [200, 250],
        [0, 99],
        [120, 130],
      ],
      {
        next: 100,
        above: [
          [120, 130],
          [200, 250],
        ],
      },
    ],
    [
      'adjacent and overlapping runs merge',
      0,
      [
        [10, 20],
        [21, 30],
        [25, 40],
      ],
      { next: 0, above: [[10, 40]] },
    ],
    ['a spool that lost its first samples (runs from 500)', 0, [[500, 900]], { next: 0, above: [[500, 900]] }],
    [
      'runs below the watermark are covered by it',
      50,
      [
        [0, 60],
        [70, 80],
      ],
      { next: 61, above: [[70, 80]] },
    ],
  ])('reads %s back in order', (_, next, ranges, expected) => {
    expect(storedSeqsOf(next, ranges)).toEqual(expected);
  });
});
