// The spool against a real directory: identity and seq survive reopening, a torn tail is cut,
// the caps drop the oldest with an exact count, acks free whole segments.
import { appendFileSync, cpSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../edge-agent/spool.ts';
import { decodeSample } from '../../protocol/index.ts';
import { cleanup, REPO, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const payload = (seq: number) => Buffer.from(`sample-${seq}-${'x'.repeat(200)}`);

function fill(spool: Spool, n: number, ts = (i: number) => 1_000_000 + i): void {
  for (let i = 0; i < n; i++) spool.append(ts(i), payload);
  spool.flush();
}

describe('Spool', () => {
  it('keeps boot id and seq across reopening, and reads records back in order', () => {
    const dir = tempDir();
    const a = new Spool({ dir });
    fill(a, 10);
    a.close();
    const b = new Spool({ dir });
    cleanup(() => b.close());
    expect(b.boot).toBe(a.boot);
    expect(b.nextSeq).toBe(10);
    expect(b.read(3, 4).map((r) => [r.seq, r.payload.toString()])).toEqual([3, 4, 5, 6].map((s) => [s, payload(s).toString()]));
    expect(b.append(0, payload).seq).toBe(10);
  });

  it('cuts a torn record at the tail and gives its seq again (it was never sent: sending waits for flush)', () => {
    const dir = tempDir();
    const a = new Spool({ dir });
    fill(a, 5);
    a.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    const path = join(dir, segment!);
    truncateSync(path, statSync(path).size - 7); // the last record loses its end
    appendFileSync(path, Buffer.from([1, 2, 3]));
    const b = new Spool({ dir });
    cleanup(() => b.close());
    expect(b.openReport.tornBytes).toBeGreaterThan(0);
    expect(b.nextSeq).toBe(4);
    expect(b.read(0, 100).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('drops the oldest segments past the byte cap, counting exactly the unacked samples lost', () => {
    const dir = tempDir();
    const spool = new Spool({ dir, maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    cleanup(() => spool.close());
    let lost = 0;
    for (let i = 0; i < 2000; i++) {
      spool.append(i, payload);
      lost += spool.enforceLimits();
    }
    spool.flush();
    expect(spool.bytes).toBeLessThanOrEqual(64 * 1024 + 8 * 1024);
    expect(lost).toBe(spool.dropped);
    // Everything not dropped is still there, contiguous up to the newest.
    expect(spool.firstSeq).toBe(spool.dropped);
    const kept = spool.read(0, 5000).map((r) => r.seq);
    expect(kept[0]).toBe(spool.dropped);
    expect(kept.length).toBe(2000 - spool.dropped);
  });

  it('drops by age, and acked samples are freed without counting as dropped', () => {
    const dir = tempDir();
    let now = 10_000_000;
    const spool = new Spool({ dir, maxAgeMs: 60_000, segmentBytes: 8 * 1024, now: () => now });
    cleanup(() => spool.close());
    fill(spool, 300, (i) => now - 120_000 + i * 100); // 30 s of samples, 2 min ago
    spool.ack(100);
    expect(spool.firstSeq).toBe(100);
    const segmentsBefore = spool.segmentCount;
    now += 1000;
    spool.append(now, payload);
    const lost = spool.enforceLimits();
    expect(spool.segmentCount).toBeLessThan(segmentsBefore);
    expect(lost).toBe(spool.firstSeq - 100);
    expect(spool.dropped).toBe(lost);
  });

  it('reads a spool an earlier agent wrote (test/fixtures/spool-v1, never regenerated)', () => {
    // Written by the agent of Node 20.15+, whose CRC-32 was node:zlib's: 12 samples, 0–2 acknowledged.
    const dir = tempDir();
    cpSync(join(REPO, 'test/fixtures/spool-v1'), dir, { recursive: true });
    const spool = new Spool({ dir, maxAgeMs: 100 * 365 * 86_400_000 });
    cleanup(() => spool.close());
    expect(spool.openReport).toEqual({ tornBytes: 0, segments: 2, records: 12, tailRecords: 0, unknownSeqs: 0 });
    expect([spool.boot, spool.acked, spool.nextSeq]).toEqual(['49d2281321957f97', 3, 12]);
    const records = spool.read(0, 100);
    expect(records.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const r of records) {
      expect(r.tsMs).toBe(1_764_145_200_000 + r.seq * 1000);
      expect(decodeSample(r.payload)).toMatchObject({ boot: spool.boot, seq: r.seq, ts_ms: r.tsMs, cpu_pct: 23.4 });
    }
    expect(spool.append(0, payload).seq).toBe(12);
  });
});
