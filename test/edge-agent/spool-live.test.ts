// The spool's live mode against real directories: while the link is up, samples the hub acknowledges
// never reach the segments and nothing is synced per sample; a killed process's tail is found again
// in its RAM file (here an ordinary temporary directory stands in for the RAM filesystem); a power
// cut (the tail file gone) never reuses a seq that may have been sent, and gives up only those.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, TAIL_MAX_BYTES, TAIL_MAX_RECORDS } from '../../edge-agent/spool.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const payload = (seq: number) => Buffer.from(`sample-${seq}-${'x'.repeat(200)}`);
const segmentBytes = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const tailFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tail'));

/** A spool whose process "dies": never closed, its file descriptors left as a kill leaves them. */
function open(dir: string, tailDir: string): Spool {
  return new Spool({ dir, tailDir });
}

function appendLive(spool: Spool, n: number, ackEvery = 0): void {
  for (let i = 0; i < n; i++) {
    spool.append(1_000_000 + spool.nextSeq, payload);
    spool.flush();
    if (ackEvery > 0 && spool.nextSeq % ackEvery === 0) spool.ack(spool.nextSeq - 2); // acks lag a little
  }
}

describe('Spool live mode', () => {
  it('keeps acknowledged samples off the segments: one synced reservation, no sync per sample', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const spool = open(dir, tailDir);
    cleanup(() => spool.close());
    spool.setLive(true);
    const syncs0 = spool.stats.syncs;
    appendLive(spool, 50, 5);
    expect(segmentBytes(dir)).toBe(0);
    expect(spool.stats.syncs - syncs0).toBe(2); // the seq reservation: spool.json and its directory
    expect(spool.stats.spills).toBe(0);
    expect(spool.read(spool.firstSeq, 100).map((r) => r.seq)).toEqual([48, 49]);
    expect(tailFiles(tailDir)).toEqual([`remonitor-${spool.boot}.tail`]);
  });

  it('syncs the tail to the segments past its bound, when the link drops, and at close', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const spool = open(dir, tailDir);
    spool.setLive(true);
    appendLive(spool, TAIL_MAX_RECORDS + 1); // no acks: a hub that stopped answering
    expect(spool.stats.spills).toBe(1);
    expect(segmentBytes(dir)).toBeGreaterThan(0);
    appendLive(spool, 5);
    spool.setLive(false);
    expect(spool.stats.spills).toBe(2);
    expect(tailFiles(tailDir)).toEqual([]);
    appendLive(spool, 3); // disconnected: straight to the segments, synced
    expect(spool.read(0, 1000).map((r) => r.seq)).toEqual([...Array(TAIL_MAX_RECORDS + 9).keys()]);
    spool.setLive(true);
    appendLive(spool, 4);
    spool.close();
    const again = open(dir, tailDir);
    cleanup(() => again.close());
    expect([again.nextSeq, again.openReport.unknownSeqs, again.openReport.tailRecords]).toEqual([TAIL_MAX_RECORDS + 13, 0, 0]);
    expect(again.read(0, 1000).map((r) => r.seq)).toEqual([...Array(TAIL_MAX_RECORDS + 13).keys()]);
  });

  it('after a kill, finds the tail in its RAM file: the exact next seq and every unacknowledged record', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const killed = open(dir, tailDir);
    killed.setLive(true);
    appendLive(killed, 40, 10);
    const acked = killed.acked;
    // killed: no close
    const spool = open(dir, tailDir);
    cleanup(() => spool.close());
    expect(spool.boot).toBe(killed.boot);
    expect(spool.nextSeq).toBe(40);
    expect(spool.acked).toBe(acked);
    expect(spool.openReport.tailRecords).toBe(40 - acked);
    expect(spool.read(0, 100).map((r) => [r.seq, r.payload.toString()])).toEqual(
      Array.from({ length: 40 - acked }, (_, i) => [acked + i, payload(acked + i).toString()]),
    );
    // Synced at open, so a power cut from here on loses none of them.
    expect(tailFiles(tailDir)).toEqual([]);
  });

  it('after a power cut (no tail file), skips to the reservation: no seq that may have been sent is reused', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const first = open(dir, tailDir);
    appendLive(first, 5); // disconnected: on disk, synced
    first.setLive(true);
    appendLive(first, 30);
    rmSync(tailDir, { recursive: true }); // the RAM filesystem is gone with the power
    const spool = open(dir, tempDir());
    cleanup(() => spool.close());
    expect(spool.nextSeq).toBeGreaterThanOrEqual(35);
    expect(spool.openReport.unknownSeqs).toBe(spool.nextSeq - 5);
    // What was synced is still sent; the unknown seqs are held nowhere.
    expect(spool.read(0, 100).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(spool.firstSeq).toBe(0);
    // The hub has the synced ones and the first 20 live ones: the rest of the gap is given up.
    expect(spool.ack(25)).toBe(spool.nextSeq - 25);
    expect(spool.firstSeq).toBe(spool.nextSeq);
    expect(spool.append(0, payload).seq).toBe(spool.nextSeq - 1);
    // Given up once, persistently: a restart does not ask again.
    spool.close();
    const later = open(dir, tempDir());
    cleanup(() => later.close());
    expect([later.openReport.unknownSeqs, later.firstSeq]).toEqual([0, later.nextSeq - 1]);
  });

  it('a power cut while disconnected loses nothing synced, and invents no unknown seqs', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const first = open(dir, tailDir);
    first.setLive(true);
    appendLive(first, 10, 5);
    first.setLive(false); // the link dropped: the tail is synced, the reservation given back
    appendLive(first, 10);
    rmSync(tailDir, { recursive: true, force: true });
    const spool = open(dir, tempDir());
    cleanup(() => spool.close());
    expect([spool.nextSeq, spool.openReport.unknownSeqs]).toEqual([20, 0]);
    expect(
      spool
        .read(spool.firstSeq, 100)
        .map((r) => r.seq)
        .at(-1),
    ).toBe(19);
  });

  it('keeps its tail file small while acks lag behind new samples', () => {
    const [dir, tailDir] = [tempDir(), tempDir()];
    const spool = open(dir, tailDir);
    cleanup(() => spool.close());
    spool.setLive(true);
    appendLive(spool, 2000, 5);
    expect(spool.stats.spills).toBe(0);
    expect(statSync(join(tailDir, tailFiles(tailDir)[0]!)).size).toBeLessThanOrEqual(2 * TAIL_MAX_BYTES + 4096);
    expect(segmentBytes(dir)).toBe(0);
    const spoolAgain = open(dir, tailDir); // as after a kill now: the compacted file still holds the tail
    cleanup(() => spoolAgain.close());
    expect([spoolAgain.nextSeq, spoolAgain.acked]).toEqual([2000, 1998]);
    expect(spoolAgain.read(0, 10).map((r) => r.seq)).toEqual([1998, 1999]);
  });
});
