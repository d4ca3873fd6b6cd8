// The hub's watermark logic as tables of cases, and its persistence in a real SQLite file.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addSeq, AckTracker } from '../../hub/ingest/ack-tracker.ts';
import type { SampleKeys } from '../../hub/storage/packed-samples.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

/** One node's boot's seqs, as a batch's keys. */
const seqsOf = (node: string, boot: string, seqs: number[]): SampleKeys => ({ length: seqs.length, node: () => node, boot: () => boot, seq: (i) => seqs[i]! });

describe('addSeq', () => {
  it.each([
    ['in order', 0, [0, 1, 2], 3, []],
    ['a hole', 0, [0, 2, 3], 1, [[2, 3]]],
    ['the hole filled', 0, [0, 2, 3, 1], 4, []],
    ['reversed', 0, [3, 2, 1, 0], 4, []],
    ['below the watermark', 5, [1, 2], 5, []],
    ['duplicates', 0, [4, 4, 6, 5, 5], 0, [[4, 6]]],
    [
      'two holes',
      0,
      [1, 3, 5],
      0,
      [
        [1, 1],
        [3, 3],
        [5, 5],
      ],
    ],
  ] as const)('%s', (_, start, seqs, next, above) => {
    const mark = { next: start as number, above: [] as [number, number][] };
    for (const s of seqs) addSeq(mark, s);
    expect(mark).toEqual({ next, above });
  });
});

describe('AckTracker', () => {
  it('persists watermarks with the batch and records what a spool dropped as a gap', () => {
    const path = join(tempDir(), 'db.sqlite');
    const store = openSqliteStore(path);
    const tracker = new AckTracker(store.db, () => 1000);
    const { acks } = tracker.commit(seqsOf('n', 'b', [0, 1, 2, 5, 6]), () => 'written');
    expect(acks).toEqual([{ node: 'n', boot: 'b', next: 3 }]);
    // The agent's spool now starts at 5: 3 and 4 will never come.
    expect(tracker.spoolReport('n', { spool_boot: 'b', spool_first_seq: 5, spool_dropped: 2 })).toEqual({ node: 'n', boot: 'b', next: 7 });
    expect(tracker.gaps.forNode('n').map((g) => [g.from_seq, g.to_seq])).toEqual([[3, 4]]);
    store.close();
    const reopened = openSqliteStore(path);
    expect(new AckTracker(reopened.db).next('n', 'b')).toBe(7);
    reopened.close();
  });

  it('does not move the watermark when the transaction fails', () => {
    const store = openSqliteStore(join(tempDir(), 'db.sqlite'));
    const tracker = new AckTracker(store.db);
    expect(() =>
      tracker.commit(seqsOf('n', 'b', [0]), () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(tracker.next('n', 'b')).toBe(0);
    store.close();
  });
});
