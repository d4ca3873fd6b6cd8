// The chunk codec (hub/storage/chunk-codec.ts): every value, absence, seq and boot comes back exactly, by
// tables of edge cases and by random and simulated-fleet chunks; and what it costs a value.
import { describe, expect, it } from 'vitest';
import {
  decodeBucketColumns,
  decodeBuckets,
  decodeChunk,
  decodeChunkColumns,
  encodeBuckets,
  encodeChunk,
  type BucketRows,
  type ChunkRows,
  type Compression,
  recompressedCold,
} from '../../hub/storage/chunk-codec.ts';
import { encodeDetail } from '../../hub/storage/sample-detail.ts';
import { toPoint } from '../../hub/storage/sample-point.ts';
import { SAMPLE_COLUMNS } from '../../hub/storage/packed-samples.ts';
import { SimulatedNode } from '../../edge-agent/simulated-node.ts';

/** A chunk of one column, with times a second apart. */
function oneColumn(values: (number | null)[]): ChunkRows {
  return {
    tsMs: values.map((_, i) => 1_700_000_000_000 + i * 1000),
    seq: values.map((_, i) => i),
    boot: values.map(() => 'b1'),
    columns: [values],
    detail: values.map(() => null),
  };
}

/** Equal value for value: -0 apart from 0, NaN (absent) as null. */
function expectSame(actual: ChunkRows, expected: ChunkRows): void {
  expect(actual.tsMs).toEqual(expected.tsMs);
  expect(actual.seq).toEqual(expected.seq);
  expect(actual.boot).toEqual(expected.boot);
  expect(actual.columns.length).toBe(expected.columns.length);
  expected.columns.forEach((column, c) => {
    const want = column.map((v) => (v === null || Number.isNaN(v) ? null : v));
    actual.columns[c]!.forEach((v, i) => expect(Object.is(v, want[i]), `column ${c} row ${i}: ${v} vs ${want[i]}`).toBe(true));
  });
  expect(actual.detail.map((d) => (d ? [...d] : null))).toEqual(expected.detail.map((d) => (d ? [...d] : null)));
}

const COMPRESSIONS: Compression[] = ['none', 'deflate', 'brotli'];

/** decodeChunkColumns() of the chunk's bytes gives its times, seqs and the columns `wanted` (NaN for no value), and no others. */
function expectSameColumns(bytes: Uint8Array, chunk: ChunkRows, wanted: readonly number[]): void {
  const some = decodeChunkColumns(bytes, wanted);
  expect([...some.tsMs]).toEqual(chunk.tsMs);
  expect([...some.seq]).toEqual(chunk.seq);
  for (let c = 0; c <= chunk.columns.length; c++) {
    if (!wanted.includes(c)) expect(some.columns[c]).toBeUndefined();
    else expect([...some.columns[c]!]).toEqual(chunk.tsMs.map((_, i) => chunk.columns[c]?.[i] ?? NaN));
  }
}

describe('chunk codec', () => {
  it.each<[string, (number | null)[]]>([
    ['no rows', []],
    ['one row', [42]],
    ['all absent', [null, null, null]],
    ['absent among values', [1, null, 3, null, null, 6, 7, 8, 9, null]],
    ['NaN as absent', [1, NaN, 3]],
    ['integers of bytes', [3_099_609_195, 3_107_717_513, 3_105_802_330, 0]],
    ['tenths (percentages, °C)', [33.4, 30.9, 28, 36.2, 0.1, 100]],
    ['hundredths (loads)', [1.38, 1.2, 1.07, 0.99, 0.9]],
    ['negative tenths', [-12.5, -0.1, 3.3, -40]],
    ['counters that climb evenly (uptime)', [86_400, 86_460, 86_520, 86_580, 86_640]],
    ['floats that do not scale', [Math.PI, Math.E, 1 / 3, 2 / 3, Math.SQRT2]],
    ['a float among tenths makes the column XOR', [0.1, 0.2, 1 / 3]],
    ['-0 kept apart from 0', [0, -0, 0, -0]],
    ['infinities', [Infinity, -Infinity, 1]],
    ['very large and very small', [Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 60, -(2 ** 60), 1e-300]],
    ['integers past 2^50 fall back to XOR', [2 ** 51, 2 ** 51 + 2, 3]],
    ['repeated values', [7, 7, 7, 7, 7, 7, 7, 7, 7]],
    ['nine decimals', [0.123456789, 1.000000001]],
    ['multiples of a page from an odd first value', [4097, 8193, -4095, 4097 + 4096 * 1000, null, 4097]],
    ['a common divisor across the widest range', [-(2 ** 50 - 1), 2 ** 50 - 1, 1, -1]],
    ['tenths in steps of 0.2 (ticks of 5 s)', [0.2, 0.4, 0, 1.2, -0.6]],
  ])('gives back %s exactly', (_, values) => {
    const chunk = oneColumn(values);
    for (const compression of COMPRESSIONS) expectSame(decodeChunk(encodeChunk(chunk, compression)), chunk);
  });

  it.each<[string, Partial<ChunkRows>]>([
    ['times with jitter and a step back', { tsMs: [5_000, 6_003, 6_998, 6_500, 8_000] }],
    ['seqs with gaps and a restart', { seq: [10, 11, 15, 0, 1], boot: ['a', 'a', 'a', 'b', 'b'] }],
    ['boots that interleave', { boot: ['a', 'b', 'a', 'b', 'a'] }],
    ['boot ids of any text', { boot: ['', 'é→✓', 'x'.repeat(300), '', 'z'] }],
    ['detail blobs, empty and absent', { detail: [new Uint8Array([1, 2, 3]), null, new Uint8Array(0), new Uint8Array(500).fill(9), null] }],
  ])('keeps the identity and detail: %s', (_, overrides) => {
    const chunk: ChunkRows = { ...oneColumn([1, 2, 3, 4, 5]), ...overrides };
    for (const compression of COMPRESSIONS) expectSame(decodeChunk(encodeChunk(chunk, compression)), chunk);
  });

  it.each<[string, Partial<ChunkRows>, RegExp]>([
    ['a fractional time', { tsMs: [1.5] }, /ts_ms 1.5 is not an integer/],
    ['a seq past 2^50', { seq: [2 ** 52] }, /seq .* is not an integer below 2\^50/],
    ['lists of other lengths', { seq: [] }, /1 times but 0 seq values/],
  ])('refuses %s', (_, overrides, message) => {
    expect(() => encodeChunk({ ...oneColumn([1]), ...overrides })).toThrow(message);
  });

  it.each<[string, Uint8Array]>([
    ['an empty buffer', new Uint8Array(0)],
    ['an unknown format', new Uint8Array([9, 0])],
    ['an unknown compression', new Uint8Array([1, 7, 0])],
    ['a body cut short', encodeChunk(oneColumn([1, 2, 3]), 'none').subarray(0, 8)],
  ])('says what is wrong with %s', (_, bytes) => {
    expect(() => decodeChunk(bytes)).toThrow(/chunk/);
  });

  it('gives back random chunks exactly (200 of them)', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = (): number | null => {
      const r = random();
      if (r < 0.1) return null;
      if (r < 0.3) return Math.round(random() * 1000) / 10;
      if (r < 0.5) return Math.floor(random() * 2 ** 40);
      if (r < 0.6) return -Math.round(random() * 1e6) / 100;
      if (r < 0.7) return [0, -0, Infinity, -Infinity, Number.MIN_VALUE][Math.floor(random() * 5)]!;
      return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    };
    for (let round = 0; round < 200; round++) {
      const rows = Math.floor(random() * 50);
      const tsMs: number[] = [];
      for (let i = 0, t = 1_700_000_000_000; i < rows; i++) tsMs.push((t += Math.floor(random() * 120_000) - 1_000));
      const chunk: ChunkRows = {
        tsMs,
        seq: tsMs.map(() => Math.floor(random() * 1e9)),
        boot: tsMs.map(() => (random() < 0.9 ? 'one' : 'two')),
        columns: Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
          // Some columns are of one kind (scaled), some mixed.
          const kind = random();
          return tsMs.map(() => (kind < 0.3 ? Math.round(random() * 1000) / 10 : pick()));
        }),
        detail: tsMs.map(() => (random() < 0.2 ? null : new Uint8Array(Math.floor(random() * 40)).map(() => random() * 256))),
      };
      const bytes = encodeChunk(chunk, COMPRESSIONS[round % 3]!);
      expectSame(decodeChunk(bytes), chunk);
      // Some columns alone, one past the chunk's last among them: as decodeChunk gives them, NaN for none.
      const wanted = [chunk.columns.length, ...chunk.columns.map((_, c) => c).filter(() => random() < 0.4)];
      expectSameColumns(bytes, chunk, wanted);
    }
  });

  it("gives back a simulated node's hour at 1 Hz exactly, in under 1.5 bytes a value", () => {
    const node = new SimulatedNode('sim-0', 7, 1_700_000_000_000);
    const chunk: ChunkRows = { tsMs: [], seq: [], boot: [], columns: SAMPLE_COLUMNS.map(() => []), detail: [] };
    let values = 0;
    for (let i = 0; i < 3600; i++) {
      const sample = node.next(1_700_000_000_000 + i * 1000);
      const point = toPoint(sample);
      chunk.tsMs.push(sample.ts_ms);
      chunk.seq.push(sample.seq);
      chunk.boot.push(sample.boot);
      SAMPLE_COLUMNS.forEach((m, c) => {
        const v = (point as unknown as Record<string, number | null | undefined>)[m] ?? null;
        chunk.columns[c]!.push(v);
        if (v !== null) values++;
      });
      chunk.detail.push(encodeDetail(sample));
    }
    const bytes = encodeChunk(chunk);
    expectSame(decodeChunk(bytes), chunk);
    // The columns alone (no detail): the codec's own share.
    const columnsOnly = encodeChunk({ ...chunk, detail: chunk.detail.map(() => null) });
    expect(columnsOnly.length / values).toBeLessThan(1.5);
  });

  it('compresses a chunk compaction is done with again harder, into bytes that decode the same', async () => {
    const node = new SimulatedNode('sim-1', 11, 1_700_000_000_000);
    const chunk: ChunkRows = { tsMs: [], seq: [], boot: [], columns: SAMPLE_COLUMNS.map(() => []), detail: [] };
    const buckets: BucketRows = { bucketMs: [], n: [], columns: SAMPLE_COLUMNS.map(() => []) };
    for (let i = 0; i < 900; i++) {
      const sample = node.next(1_700_000_000_000 + i * 1000);
      const point = toPoint(sample) as unknown as Record<string, number | null | undefined>;
      chunk.tsMs.push(sample.ts_ms);
      chunk.seq.push(sample.seq);
      chunk.boot.push(sample.boot);
      SAMPLE_COLUMNS.forEach((m, c) => chunk.columns[c]!.push(point[m] ?? null));
      chunk.detail.push(encodeDetail(sample));
      buckets.bucketMs.push(1_700_000_000_000 + i * 60_000);
      buckets.n.push(1);
      SAMPLE_COLUMNS.forEach((m, c) => buckets.columns[c]!.push(point[m] ?? null));
    }
    const warm = encodeChunk(chunk);
    const cold = (await recompressedCold(warm))!;
    expectSame(decodeChunk(cold), chunk);
    expect(cold.length).toBeLessThan(warm.length * 0.97);
    // Once is enough: again, it comes out no smaller.
    expect(await recompressedCold(cold)).toBeNull();
    const warmBuckets = encodeBuckets(buckets);
    const coldBuckets = (await recompressedCold(warmBuckets))!;
    expect(coldBuckets.length).toBeLessThan(warmBuckets.length);
    expect(decodeBuckets(coldBuckets)).toEqual(decodeBuckets(warmBuckets));
    // A chunk left uncompressed (compressing did not shrink it) stays as it is.
    expect(await recompressedCold(encodeChunk(oneColumn([1, 2, 3]), 'none'))).toBeNull();
  });
});

describe('common divisors (format 3)', () => {
  it('codes a column of kB or pages as its count of them: it costs about what the count costs, whatever the unit', () => {
    let seed = 99;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let walk = 500_000;
    const kilobytes = Array.from({ length: 900 }, () => (walk += Math.round((random() - 0.5) * 2000)));
    const cost = (values: number[]) => encodeChunk(oneColumn(values)).length;
    const inBytes = kilobytes.map((kb) => kb * 1024);
    expect(cost(inBytes)).toBeLessThan(cost(kilobytes) + 20);
    // Not a divisor of all of them: the bytes cost more than the count.
    const oneOff = [...inBytes.slice(0, -1), inBytes.at(-1)! + 1];
    expect(cost(oneOff)).toBeGreaterThan(cost(kilobytes) + 200);
    expectSame(decodeChunk(encodeChunk(oneColumn(oneOff))), oneColumn(oneOff));
    expectSame(decodeChunk(encodeChunk(oneColumn(inBytes))), oneColumn(inBytes));
  });

  it('refuses a divisor a writer could not have written', () => {
    // Pages from 0 (zigzag varint 0x00), divided by 4096 (varint 0x80 0x20), after a way byte with DIVIDED (0x08) set.
    const pages = Array.from({ length: 64 }, (_, i) => 4096 * ((i * i * 7) % 61));
    const body = encodeChunk(oneColumn(pages), 'none');
    expectSame(decodeChunk(body), oneColumn(pages));
    const at = Buffer.from(body).indexOf(Buffer.from([0x00, 0x80, 0x20]));
    expect(at).toBeGreaterThan(0);
    expect(body[at - 1]! & 0x08).toBe(0x08);
    // The divisor made 1 in as many bytes (0x81 0x00): the writer never divides by less than 2.
    const bad = Uint8Array.from(body);
    bad[at + 1] = 0x81;
    bad[at + 2] = 0x00;
    expect(() => decodeChunk(bad)).toThrow(/divided by 1 /);
  });
});

describe('bucket chunks', () => {
  /** Equal value for value, -0 apart from 0. */
  const expectSameBuckets = (actual: BucketRows, expected: BucketRows) => {
    expect(actual.bucketMs).toEqual(expected.bucketMs);
    expect(actual.n).toEqual(expected.n);
    expected.columns.forEach((column, c) =>
      column.forEach((v, i) => expect(Object.is(actual.columns[c]![i], v), `column ${c} bucket ${i}: ${actual.columns[c]![i]} vs ${v}`).toBe(true)),
    );
  };

  it('gives back sums of tenths that floating point left inexact, and any other float, exactly', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const tenths = Array.from({ length: 500 }, () => Math.round(random() * 1000) / 10);
    // Sums of 2 to 60 tenths, as a bucket's sum: most are not k / 10 exactly.
    const sums = Array.from({ length: 500 }, () => {
      let s = 0;
      for (let i = 0, n = 2 + Math.floor(random() * 59); i < n; i++) s += tenths[i]!;
      return s;
    });
    expect(sums.filter((s) => Math.round(s * 10) / 10 !== s).length).toBeGreaterThan(50);
    const chunk: BucketRows = {
      bucketMs: sums.map((_, i) => 1_700_000_000_000 + i * 60_000),
      n: sums.map((_, i) => 1 + (i % 60)),
      columns: [
        sums,
        sums.map((s) => -s),
        sums.map((s, i) => (i % 7 === 0 ? null : s * 1e-12)),
        sums.map(() => random() * Number.MAX_VALUE),
        sums.map((_, i) => [0, -0, Infinity, -Infinity, 1e-300, 5e-324][i % 6]!),
        sums.map(() => null),
      ],
    };
    const bytes = encodeBuckets(chunk);
    expectSameBuckets(decodeBuckets(bytes), chunk);
    // The sums cost about what exact tenths would: a byte or two a value, not the 8 of a double.
    const sumsOnly = encodeBuckets({ ...chunk, columns: [sums] });
    expect(sumsOnly.length / sums.length).toBeLessThan(3);
  });

  it('leaves out the columns a reader does not want, and refuses a sample chunk', () => {
    const chunk: BucketRows = {
      bucketMs: [0, 60_000, 120_000],
      n: [1, 2, 3],
      columns: [
        [1, 2, 3],
        [0.1, null, 0.30000000000000004],
        [7, 7, 7],
      ],
    };
    const got = decodeBuckets(encodeBuckets(chunk), (c) => c === 1);
    expect(got.columns).toEqual([[], [0.1, null, 0.30000000000000004], []]);
    expect(() => decodeBuckets(encodeChunk(oneColumn([1, 2])))).toThrow(/not a bucket chunk/);
    expect(() => decodeChunk(encodeBuckets(chunk))).toThrow(/not a chunk of format/);
  });

  it('codes a bucket column against the one it equals, and decodes it when only that one is unwanted', () => {
    const mins = Array.from({ length: 360 }, (_, i) => Math.round(Math.abs(Math.sin(i)) * 1000) / 10);
    const counts = mins.map(() => 1);
    // A metric's min, max, sum and count over buckets of one sample each: max and sum are the min.
    const chunk: BucketRows = { bucketMs: mins.map((_, i) => i * 60_000), n: counts, columns: [mins, mins, mins, counts] };
    const alone = encodeBuckets({ ...chunk, columns: [mins] });
    const bytes = encodeBuckets(chunk);
    expect(bytes.length).toBeLessThan(alone.length + 40);
    expectSameBuckets(decodeBuckets(bytes), chunk);
    expect(decodeBuckets(bytes, (c) => c === 2).columns).toEqual([[], [], mins, []]);
  });

  it('codes a column of kB as its count of them (format 0x13), a sum near-scaled or coded against another too', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let walk = 500_000;
    const kilobytes = Array.from({ length: 360 }, () => (walk += Math.round((random() - 0.5) * 2000)));
    const inBytes = kilobytes.map((kb) => kb * 1024);
    const chunkOf = (values: number[]): BucketRows => ({ bucketMs: values.map((_, i) => i * 60_000), n: values.map(() => 1), columns: [values] });
    const cost = (values: number[]) => encodeBuckets(chunkOf(values)).length;
    expect(cost(inBytes)).toBeLessThan(cost(kilobytes) + 20);
    const oneOff = [...inBytes.slice(0, -1), inBytes.at(-1)! + 1];
    expect(cost(oneOff)).toBeGreaterThan(cost(kilobytes) + 100);
    for (const values of [inBytes, oneOff]) expectSameBuckets(decodeBuckets(encodeBuckets(chunkOf(values))), chunkOf(values));
    // Sums of tenths (near-scaled) and a max coded against its min, divided where they share a divisor.
    const tenths = kilobytes.map((kb) => (kb % 1000) / 10 + 0.1 + 0.2);
    const withRef: BucketRows = { ...chunkOf(inBytes), columns: [inBytes, inBytes.map((v, i) => v + 4096 * (i % 3)), tenths] };
    expectSameBuckets(decodeBuckets(encodeBuckets(withRef)), withRef);
    const floats = decodeBucketColumns(encodeBuckets(withRef), [1, 0]);
    expect(floats.columns.map((c) => Array.from(c))).toEqual([withRef.columns[1], inBytes]);
  });

  it('decodes the columns asked for into floats, NaN where a bucket has none, as decodeBuckets gives them', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const rows = 361; // not a multiple of 8: the last byte of a column's bitmap is part used
    const mins = Array.from({ length: rows }, (_, i) => (i % 13 === 5 ? null : Math.round(random() * 1000) / 10));
    const sums = mins.map((v, i) => (v === null ? null : i % 3 === 0 ? v : v * 3 + 0.1));
    const chunk: BucketRows = {
      bucketMs: mins.map((_, i) => 1_700_000_000_000 + i * 60_000),
      n: mins.map((_, i) => 1 + (i % 3)),
      columns: [
        mins,
        mins.map((v) => (v === null ? null : v + 1)),
        sums,
        mins.map((v, i) => (v === null ? null : 1 + (i % 3))),
        mins.map(() => random() * 1e300),
        mins.map(() => null),
        mins.map((_, i) => (i % 2 === 0 ? null : i * 1e-12)),
        // Memory in kB as bytes: divided by their common divisor (format 0x13).
        mins.map((v) => (v === null ? null : Math.round(v * 10) * 1024)),
      ],
    };
    const asFloats = (column: readonly (number | null)[] | undefined) => Array.from({ length: rows }, (_, i) => column?.[i] ?? NaN);
    const wanted = [2, 3, 6, 5, 4, 9, 7, 2];
    const decodes = [encodeBuckets(chunk), encodeBuckets({ ...chunk, columns: chunk.columns.slice(0, 4) })].map((bytes) => ({
      all: decodeBuckets(bytes),
      got: decodeBucketColumns(bytes, wanted),
    }));
    // Each checked after both are decoded: a decode's floats are its own, not the next one's.
    for (const { all, got } of decodes) {
      expect(Array.from(got.bucketMs)).toEqual(chunk.bucketMs);
      wanted.forEach((c, k) => {
        const expected = asFloats(all.columns[c]);
        got.columns[k]!.forEach((v, i) => expect(Object.is(v, expected[i]), `column ${c} bucket ${i}: ${v} vs ${expected[i]}`).toBe(true));
      });
    }
    // A chunk of format 0x11 (no column coded against another).
    const old = decodeBucketColumns(Buffer.from('110002040100c0a90701020203051e0a03051e1e03051e4603010202', 'hex'), [2, 3]);
    expect(old.columns.map((c) => Array.from(c))).toEqual([
      [1.5, 5],
      [1, 2],
    ]);
  });
});

const hex = (blobs: readonly (Uint8Array | null)[]) => blobs.map((d) => d && Buffer.from(d).toString('hex'));

describe('chunks written by earlier versions', () => {
  // Bytes as earlier formats wrote them (samples 1 and 2, buckets 0x11 and 0x12): kept readable.
  const detail = encodeDetail({ cpu_core_pct: [12.5, 40.1], net: [{ iface: 'eth0', rx_bps: 1200, tx_bps: 340 }] });
  // What the sample chunks of formats 1 and 2 below hold.
  const earlierSamples = {
    tsMs: [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000],
    seq: [7, 8, 9],
    boot: ['b1', 'b1', 'b1'],
    columns: [
      [12.5, null, 13.1],
      [3_000_000_000, 3_000_004_096, 3_000_008_192],
    ],
    detail: [detail, null, detail],
  };

  it('reads a sample chunk of format 1, its detail blobs whole', () => {
    const bytes = Buffer.from(
      '010003020180a0abfef962d00fd00f010e02020102623100034505fa010c0180f882ad16804080401e001e8682fa41480000fa42206666f6818364657468301904b0190154f6f6f68682fa41480000fa42206666f6818364657468301904b0190154f6f6f6',
      'hex',
    );
    const chunk = decodeChunk(bytes);
    expectSame(chunk, earlierSamples);
    expectSameColumns(bytes, earlierSamples, [1, 0]);
    expect(hex(chunk.detail)).toEqual(hex([detail, null, detail]));
    // Written again, it takes the current format and reads back the same.
    const again = decodeChunk(encodeChunk(chunk));
    expectSame(again, chunk);
    expect(hex(again.detail)).toEqual(hex(chunk.detail));
  });

  it('reads a sample chunk of format 2, its integers undivided', () => {
    const bytes = Buffer.from(
      '020003020180a0abfef962d00fd00f010e0202010262310003450503fa010330010380f882ad160e0000000400020101118682f7f7f681836465746830f7f7f6f6f6010001450503fa0100450503a20600410503e01200410503a80500',
      'hex',
    );
    const chunk = decodeChunk(bytes);
    expectSame(chunk, earlierSamples);
    expectSameColumns(bytes, earlierSamples, [0]);
    expect(encodeChunk(chunk)[0]).toBe(3);
    expectSame(decodeChunk(encodeChunk(chunk)), chunk);
  });

  it('reads a bucket chunk of format 0x12, its integers undivided', () => {
    const bytes = Buffer.from('12021b2a0000047a7f77f7b75729c638d3c42a81360aa7aac37f1b1317f65cb6c25c0e4616560c', 'hex');
    const chunk: BucketRows = {
      bucketMs: [0, 60_000, 120_000],
      n: [1, 2, 1],
      columns: [
        [4096, 8192, 12288],
        [4096, 12288, 12288],
        [4096, 20480, 12288],
        [1, 2, 1],
      ],
    };
    expect(decodeBuckets(bytes)).toEqual(chunk);
    expect(encodeBuckets(chunk)[0]).toBe(0x13);
    expect(decodeBuckets(encodeBuckets(chunk))).toEqual(chunk);
  });

  it('reads a bucket chunk of format 0x11', () => {
    const bytes = Buffer.from('110002040100c0a90701020203051e0a03051e1e03051e4603010202', 'hex');
    expect(decodeBuckets(bytes)).toEqual({
      bucketMs: [0, 60_000],
      n: [1, 2],
      columns: [
        [1.5, 2],
        [1.5, 3],
        [1.5, 5],
        [1, 2],
      ],
    });
  });
});

describe("a chunk's detail blobs", () => {
  const withDetail = (blobs: (Uint8Array | null)[]): ChunkRows => ({ ...oneColumn(blobs.map((_, i) => i)), detail: blobs });

  it('come back byte for byte when taken apart, processes in any order, and cost less than whole', () => {
    const node = new SimulatedNode('sim-1', 3, 1_700_000_000_000);
    const blobs = Array.from({ length: 300 }, (_, i) => {
      const sample = node.next(1_700_000_000_000 + i * 1000);
      return i % 7 === 3 ? null : encodeDetail({ ...sample, series: [{ name: 'gpu_pct', labels: { gpu: String(i % 2) }, value: i / 10 }] });
    });
    const bytes = encodeChunk(withDetail(blobs));
    expect(hex(decodeChunk(bytes).detail)).toEqual(hex(blobs));
    const whole = blobs.reduce((n, b) => n + (b?.length ?? 0), 0);
    expect(bytes.length).toBeLessThan(whole / 3);
  });

  it('are kept whole when one would not come back byte for byte', () => {
    const odd = [
      Uint8Array.from([0xf7]), // undefined
      Uint8Array.from([0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // NaN
      Uint8Array.from([0x82, 0x18, 0x05, 0x01]), // 5 in two bytes, where the encoder writes one
      Uint8Array.from([0xff, 0x00]), // not CBOR
    ];
    for (const blob of odd) {
      const blobs = [encodeDetail({ cpu_core_pct: [1.5] }), blob, null];
      expect(hex(decodeChunk(encodeChunk(withDetail(blobs))).detail)).toEqual(hex(blobs));
    }
  });
});
