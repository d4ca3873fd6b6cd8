// One node's samples of one time window as one compressed block (hub/storage/sqlite/chunk-store.ts keeps them),
// after the pattern of Prometheus' chunks and Facebook's Gorilla: column by column, each number
// written as what it differs from the last, so that a steady series costs a byte or less a value
// before the general-purpose compressor even runs. Pure: no I/O, no clock.
//
// Layout: a format byte, a compression byte (none, deflate-raw or brotli), then the body:
//   rows, columns (the first `columns` metrics of the registry: it only grows, protocol/metrics.ts)
//   ts_ms and seq as integer sequences; boots as a string table and runs of (index, length);
//   per column a mode byte, a presence bitmap when some rows lack it, then its present values;
//   then (format 2) a byte saying how the detail blobs follow: 1 when taken apart into shapes and
//   columns of their numbers (hub/storage/detail-columns.ts), else 0 and, as in format 1,
//   per row the detail blob's length + 1 (0: none), then the blobs end to end.
// A column's values are integers times 10^-scale where that holds exactly for the whole chunk (the
// smallest scale 0…9 that does: counts and bytes 0, percentages and °C 1, loads 2), written as
// zigzag varints of their deltas or of their deltas' deltas, whichever is shorter; any other
// column is written as each value's XOR with the last (Gorilla), its zero bytes dropped.
// Formats 2 (samples) and 0x12 (buckets) write those integers as varints or bit-packed, of order
// 0, 1 or 2, whichever brotli is expected to shrink most (writeChosen); 0x12 may also code a column
// against one of the three before it (a bucket's max and sum against its min). Older formats are read.
import { joinDetails, pathsOf, splitDetails } from './detail-columns.ts';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, brotliDecompressSync, constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ChunkRows {
  tsMs: number[];
  seq: number[];
  boot: string[];
  /** columns[c][row]: null where the sample has no value. */
  columns: (number | null)[][];
  /** Each row's detail blob (hub/storage/sample-detail.ts), opaque here, or null. */
  detail: (Uint8Array | null)[];
}

// Format 1 kept its detail blobs whole; 2 takes them apart when they come back byte for byte; 3 may
// divide a column's integers by their common divisor (DIVIDED). All are read.
const FORMAT = 3;
const FORMAT_WHOLE_DETAIL = 1;
const FORMAT_UNDIVIDED = 2;
const DETAIL_WHOLE = 0;
const DETAIL_SPLIT = 1;
export const COMPRESSION = { none: 0, deflate: 1, brotli: 2 } as const;
export type Compression = keyof typeof COMPRESSION;

// Column modes (low 2 bits of the mode byte); bits 2–5 hold the scale, bit 6 says a bitmap follows.
const ALL_ABSENT = 0;
const DELTA = 1;
const DELTA2 = 2;
const XOR = 3;
const HAS_ABSENT = 0x40;
// Bit 7 (bucket chunks only): the scaled integers are followed by each value's distance in ulps
// from integer / 10^scale, for sums of decimals that floating point left a bit or two off.
const NEAR = 0x80;
const MAX_ULPS = 255;
const MAX_SCALE = 9;
// Scaled values stay below 2^50, so deltas (2^51) and deltas of deltas (2^52), zigzagged, stay exact in a double.
const MAX_SCALED = 2 ** 50;

/** Bytes written as they come: varints (7 bits a byte), zigzagged signed ones, raw bytes. */
export class Writer {
  bytes: Uint8Array;
  length = 0;

  constructor(size = 4096) {
    this.bytes = new Uint8Array(size);
  }

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) this.room(1);
    this.bytes[this.length++] = b;
  }

  /** An unsigned integer below 2^53, 7 bits a byte. */
  uint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Reads what Writer wrote, checking that the bytes do not end early. */
export class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError('chunk ends early');
    return this.bytes[this.at++]!;
  }

  uint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('chunk holds an overlong varint');
    }
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  raw(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new RangeError('chunk ends early');
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

const varintBytes = (z: number) => (z < 0x80 ? 1 : Math.ceil(Math.log2(z + 1) / 7));
const zigzag = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);

/** Bytes of the deltas (order 1) or deltas of deltas (order 2) of `ints`, zigzagged. */
function deltaCost(ints: readonly number[], order: 1 | 2): number {
  let bytes = 0;
  let last = 0;
  let lastDelta = 0;
  for (const v of ints) {
    const delta = v - last;
    bytes += varintBytes(zigzag(order === 1 ? delta : delta - lastDelta));
    last = v;
    lastDelta = delta;
  }
  return bytes;
}

function writeDeltas(w: Writer, ints: readonly number[], order: 1 | 2): void {
  let last = 0;
  let lastDelta = 0;
  for (const v of ints) {
    const delta = v - last;
    w.int(order === 1 ? delta : delta - lastDelta);
    last = v;
    lastDelta = delta;
  }
}

/** Where a column's values are decoded: a plain array, or (a bucket chunk's read, readColumnInto) a scratch array of floats at least as long. */
type Values = number[] | Float64Array;

function readDeltas(r: Reader, n: number, order: 1 | 2, out: Values): void {
  let last = 0;
  let lastDelta = 0;
  for (let i = 0; i < n; i++) {
    const delta = order === 1 ? r.int() : lastDelta + r.int();
    last += delta;
    lastDelta = delta;
    out[i] = last;
  }
}

/** An integer sequence (ts_ms, seq) by whichever order of deltas is shorter. Integers of either sign below 2^50. */
function writeIntegers(w: Writer, ints: readonly number[], name: string): void {
  for (const v of ints) if (!(Number.isInteger(v) && Math.abs(v) < MAX_SCALED)) throw new RangeError(`chunk's ${name} ${v} is not an integer below 2^50`);
  const order = deltaCost(ints, 2) < deltaCost(ints, 1) ? 2 : 1;
  w.byte(order);
  writeDeltas(w, ints, order);
}

function readIntegers(r: Reader, n: number): number[] {
  const order = r.byte();
  if (order !== 1 && order !== 2) throw new RangeError(`chunk holds an unknown integer order ${order}`);
  const out: number[] = [];
  readDeltas(r, n, order, out);
  return out;
}

/** Differences of order 0 (the integers), 1 or 2, each from 0 before the first, into `out`. */
function differences(ints: readonly number[], order: number, out: Float64Array): Float64Array {
  let last = 0;
  let lastDelta = 0;
  for (let i = 0; i < ints.length; i++) {
    const v = ints[i]!;
    const delta = v - last;
    out[i] = order === 0 ? v : order === 1 ? delta : delta - lastDelta;
    last = v;
    lastDelta = delta;
  }
  return out;
}

/** The first `n` integers from their differences of `order`, in place. */
function undifference<T extends Values>(diffs: T, order: number, n: number): T {
  if (order === 0) return diffs;
  let last = 0;
  let lastDelta = 0;
  for (let i = 0; i < n; i++) {
    const delta = order === 1 ? diffs[i]! : lastDelta + diffs[i]!;
    last += delta;
    lastDelta = delta;
    diffs[i] = last;
  }
  return diffs;
}

const byteCounts = new Uint32Array(256);

/** What brotli is expected to make of these integers as zigzag varints: their bytes' order-0 entropy, plus a little for its tables. */
function varintEstimate(diffs: Float64Array, n: number): number {
  byteCounts.fill(0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let z = zigzag(diffs[i]!);
    while (z >= 0x80) {
      byteCounts[(z % 0x80) | 0x80]!++;
      total++;
      z = Math.floor(z / 0x80);
    }
    byteCounts[z]!++;
    total++;
  }
  let bits = 0;
  let symbols = 0;
  for (let b = 0; b < 256; b++) {
    const c = byteCounts[b]!;
    if (c === 0) continue;
    symbols++;
    bits -= c * Math.log2(c / total);
  }
  return bits / 8 + symbols / 2 + 1;
}

const bitWidth = (range: number) => (range === 0 ? 0 : Math.floor(Math.log2(range)) + 1);
// How an integer column is written in the formats that say so (2, 0x12): zigzag varints of
// differences of order 0…2 (VARINT + order) or those differences less their least, in a fixed
// width of bits (PACKED + order), whichever is expected the shortest after brotli: packed for noisy
// columns (a byte count whose varints wasted a bit a byte), varints for smooth ones.
const VARINT = 0;
const PACKED = 3;
// Format 3: the way's byte may add DIVIDED, then the first integer and a common divisor (above 1)
// of all the integers' distances from it follow, and the integers written are those distances
// divided: memory counted in kB, RSS in pages, a filesystem in blocks, a process's CPU in ticks.
const DIVIDED = 0x08;

/** The greatest common divisor of two integers of either sign below 2^53 (0 with 0: the other). */
function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** The greatest common divisor of the integers' distances from the first, or 1 (none, or all equal). */
function commonDivisor(ints: readonly number[]): number {
  let g = 0;
  const first = ints[0]!;
  for (let i = 1; i < ints.length && g !== 1; i++) if (ints[i] !== first) g = gcd(g, ints[i]! - first);
  return g > 1 ? g : 1;
}

let scratch = new Float64Array(1024);

/**
 * Writes the integers the way expected shortest, divided by their common divisor when `divisors`
 * (format 3); returns the bytes written and those expected after brotli.
 */
function writeChosen(w: Writer, ints: readonly number[], divisors = false): { written: number; expected: number } {
  const start = w.length;
  const n = ints.length;
  const divisor = divisors ? commonDivisor(ints) : 1;
  const first = n > 0 ? ints[0]! : 0;
  // Below 2^50 still once divided (by 2 or more), so that the differences stay exact.
  if (divisor > 1) ints = ints.map((v) => (v - first) / divisor);
  if (scratch.length < n) scratch = new Float64Array(n * 2);
  let best = { how: VARINT + 1, cost: Infinity, least: 0, width: 0 };
  for (let order = 0; order <= 2; order++) {
    const diffs = differences(ints, order, scratch);
    let least = Infinity;
    let most = -Infinity;
    for (let i = 0; i < n; i++) {
      const d = diffs[i]!;
      if (d < least) least = d;
      if (d > most) most = d;
    }
    const width = bitWidth(most - least);
    const packed = (n * width) / 8 + 1;
    if (packed < best.cost) best = { how: PACKED + order, cost: packed, least, width };
    const varint = varintEstimate(diffs, n);
    if (varint < best.cost) best = { how: VARINT + order, cost: varint, least: 0, width: 0 };
  }
  const diffs = differences(ints, best.how < PACKED ? best.how - VARINT : best.how - PACKED, scratch);
  if (divisor > 1) {
    w.byte(best.how | DIVIDED);
    w.int(first);
    w.uint(divisor);
  } else w.byte(best.how);
  if (best.how < PACKED) {
    for (let i = 0; i < n; i++) w.int(diffs[i]!);
    return { written: w.length - start, expected: best.cost };
  }
  w.int(best.least);
  w.byte(best.width);
  // Least significant bits first, 24 at a time, so that the accumulator stays an exact double.
  let acc = 0;
  let accBits = 0;
  for (let i = 0; i < n; i++) {
    let v = diffs[i]! - best.least;
    for (let left = best.width; left > 0; ) {
      const take = left < 24 ? left : 24;
      const unit = 2 ** take;
      const part = v % unit;
      v = (v - part) / unit;
      acc += part * 2 ** accBits;
      accBits += take;
      left -= take;
      while (accBits >= 8) {
        w.byte(acc & 0xff);
        acc = Math.floor(acc / 256);
        accBits -= 8;
      }
    }
  }
  if (accBits > 0) w.byte(acc);
  return { written: w.length - start, expected: best.cost };
}

/** `n` integers of Writer.int() into `out`; those of one byte (most) read without Reader's calls. */
function readZigzags(r: Reader, n: number, out: Values): void {
  const bytes = r.bytes;
  for (let i = 0; i < n; i++) {
    const b = r.at < bytes.length ? bytes[r.at]! : 0x80;
    if (b < 0x80) {
      out[i] = b % 2 === 0 ? b / 2 : -(b + 1) / 2;
      r.at++;
    } else out[i] = r.int();
  }
}

/** `n` integers written by writeChosen(), into `diffs` (and returned). */
function readChosen<T extends Values>(r: Reader, n: number, divisors: boolean, diffs: T): T {
  let how = r.byte();
  let first = 0;
  let divisor = 1;
  if (divisors && how & DIVIDED) {
    how &= ~DIVIDED;
    first = r.int();
    divisor = r.uint();
    if (divisor < 2 || !(Math.abs(first) < MAX_SCALED)) throw new RangeError(`chunk holds integers divided by ${divisor} from ${first}`);
  }
  if (how > PACKED + 2) throw new RangeError(`chunk holds integers written in an unknown way ${how}`);
  if (how < PACKED) readZigzags(r, n, diffs);
  else {
    const least = r.int();
    const width = r.byte();
    if (width > 53) throw new RangeError(`chunk holds integers ${width} bits wide`);
    if (width === 0) diffs.fill(least, 0, n);
    else if (width <= 24) {
      // One part a value: the accumulator holds at most 31 bits, so 32-bit integer operations serve.
      // The bytes are checked once, then read without Reader.byte()'s check of each.
      const mask = 2 ** width - 1;
      const bytes = r.bytes;
      let at = r.at;
      if (at + Math.ceil((n * width) / 8) > bytes.length) throw new RangeError('chunk ends early');
      let acc = 0;
      let accBits = 0;
      for (let i = 0; i < n; i++) {
        while (accBits < width) {
          acc |= bytes[at++]! << accBits;
          accBits += 8;
        }
        diffs[i] = (acc & mask) + least;
        acc >>>= width;
        accBits -= width;
      }
      r.at = at;
    } else {
      let acc = 0;
      let accBits = 0;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let got = 0; got < width; ) {
          const take = Math.min(24, width - got);
          while (accBits < take) {
            acc += r.byte() * 2 ** accBits;
            accBits += 8;
          }
          const part = acc % 2 ** take;
          acc = (acc - part) / 2 ** take;
          accBits -= take;
          v += part * 2 ** got;
          got += take;
        }
        diffs[i] = v + least;
      }
    }
  }
  const ints = undifference(diffs, how < PACKED ? how - VARINT : how - PACKED, n);
  if (divisor === 1) return ints;
  else
    for (let i = 0; i < n; i++) {
      const value = ints[i]! * divisor + first;
      if (!(Math.abs(value) < MAX_SCALED)) throw new RangeError('chunk holds divided integers out of range');
      ints[i] = value;
    }
  return ints;
}

/** The smallest scale at which every value is an exact integer below MAX_SCALED, or -1. */
function scaleOf(values: readonly number[]): number {
  let scale = 0;
  let factor = 1;
  for (const v of values) {
    // -0, NaN and infinities have no integer form that gives them back.
    if (!Number.isFinite(v) || Object.is(v, -0)) return -1;
    while (!(Math.abs(v * factor) < MAX_SCALED && Math.round(v * factor) / factor === v)) {
      if (++scale > MAX_SCALE) return -1;
      factor *= 10;
    }
  }
  return scale;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian on every platform Node runs on: [low, high]

/** How many ulps `v` lies above `q` (both finite, of one sign), or null when of other signs. */
function ulpsBetween(v: number, q: number): number | null {
  f64[0] = v;
  const vLo = u32[0]!;
  const vHi = u32[1]!;
  f64[0] = q;
  const qLo = u32[0]!;
  const qHi = u32[1]!;
  if ((vHi ^ qHi) >>> 31) return v === q ? 0 : null;
  return (vHi - qHi) * 2 ** 32 + (vLo - qLo);
}

/** `q` moved by `ulps` (what ulpsBetween gave). */
function addUlps(q: number, ulps: number): number {
  if (ulps === 0) return q;
  f64[0] = q;
  const total = u32[0]! + ulps;
  const carry = Math.floor(total / 2 ** 32);
  u32[0] = total - carry * 2 ** 32;
  u32[1] = u32[1]! + carry;
  return f64[0]!;
}

/**
 * The smallest scale at which every value lies within MAX_ULPS of an integer / 10^scale below
 * MAX_SCALED, or -1: sums of tenths (a bucket's sum of percentages) are rarely exact tenths.
 */
function nearScaleOf(values: readonly number[]): number {
  for (let scale = 0, factor = 1; scale <= MAX_SCALE; scale++, factor *= 10) {
    let fits = true;
    for (const v of values) {
      if (!Number.isFinite(v) || Object.is(v, -0) || !(Math.abs(v * factor) < MAX_SCALED)) return -1;
      const ulps = ulpsBetween(v, Math.round(v * factor) / factor);
      if (ulps === null || Math.abs(ulps) > MAX_ULPS) {
        fits = false;
        break;
      }
    }
    if (fits) return scale;
  }
  return -1;
}

function writeXor(w: Writer, values: readonly number[]): void {
  let lastLo = 0;
  let lastHi = 0;
  const bytes = new Uint8Array(8);
  for (const v of values) {
    f64[0] = v;
    const lo = u32[0]!;
    const hi = u32[1]!;
    const xlo = (lo ^ lastLo) >>> 0;
    const xhi = (hi ^ lastHi) >>> 0;
    lastLo = lo;
    lastHi = hi;
    for (let i = 0; i < 4; i++) {
      bytes[i] = (xlo >>> (8 * i)) & 0xff;
      bytes[4 + i] = (xhi >>> (8 * i)) & 0xff;
    }
    // Bytes 7 (the sign and exponent) down to 0: zero ones at either end are dropped.
    let lead = 0;
    while (lead < 8 && bytes[7 - lead] === 0) lead++;
    let trail = 0;
    if (lead < 8) while (bytes[trail] === 0) trail++;
    w.byte((lead << 4) | trail);
    for (let i = trail; i < 8 - lead; i++) w.byte(bytes[i]!);
  }
}

function readXor(r: Reader, n: number, out: Values): void {
  let lastLo = 0;
  let lastHi = 0;
  const bytes = new Uint8Array(8);
  for (let k = 0; k < n; k++) {
    const control = r.byte();
    const lead = control >> 4;
    const trail = control & 0x0f;
    if (lead + trail > 8) throw new RangeError('chunk holds a bad float control byte');
    bytes.fill(0);
    for (let i = trail; i < 8 - lead; i++) bytes[i] = r.byte();
    lastLo = (lastLo ^ (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24))) >>> 0;
    lastHi = (lastHi ^ (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24))) >>> 0;
    u32[0] = lastLo;
    u32[1] = lastHi;
    out[k] = f64[0]!;
  }
}

/**
 * A column's values, or (with `ref`, bucket chunks of format 0x12) their scaled integers less those
 * of another column at the same rows, 0 where it has none: a 1 min bucket of one sample has its
 * max and sum equal to its min. Returns the bytes it is expected to take after brotli (those
 * written, or with `chosen` less for the integers), or null when `ref` does not fit (no scale, or out of range).
 */
function writeColumn(
  w: Writer,
  column: readonly (number | null)[],
  allowNear = false,
  ref?: readonly (number | null)[],
  chosen = false,
  divisors = false,
): number | null {
  const start = w.length;
  let saved = 0;
  const present: number[] = [];
  for (const v of column) if (v !== null && !Number.isNaN(v)) present.push(v);
  const absent = present.length < column.length ? HAS_ABSENT : 0;
  if (present.length === 0) {
    w.byte(ALL_ABSENT);
    return ref ? null : 1;
  }
  let scale = scaleOf(present);
  let near = 0;
  if (scale < 0 && allowNear) {
    scale = nearScaleOf(present);
    if (scale >= 0) near = NEAR;
  }
  let mode: number = XOR;
  let ints: number[] = [];
  if (scale >= 0) {
    const factor = 10 ** scale;
    ints = present.map((v) => Math.round(v * factor));
    if (ref) {
      const base = refIntegers(ref, column, factor);
      if (!base) return null;
      ints = ints.map((v, i) => v - base[i]!);
      if (ints.some((v) => !(Math.abs(v) < MAX_SCALED))) return null;
    }
    // With `chosen`, writeChosen picks the order; the mode only says integers.
    mode = chosen || deltaCost(ints, 2) >= deltaCost(ints, 1) ? DELTA : DELTA2;
  } else if (ref) return null;
  w.byte(mode | (Math.max(scale, 0) << 2) | absent | near);
  if (absent) {
    // One bit a row, set where the row has a value.
    for (let at = 0; at < column.length; at += 8) {
      let bits = 0;
      for (let i = 0; i < 8 && at + i < column.length; i++) {
        const v = column[at + i];
        if (v !== null && v !== undefined && !Number.isNaN(v)) bits |= 1 << i;
      }
      w.byte(bits);
    }
  }
  if (mode === XOR) writeXor(w, present);
  else if (chosen) {
    const { written, expected } = writeChosen(w, ints, divisors);
    saved = written - expected;
  } else writeDeltas(w, ints, mode === DELTA2 ? 2 : 1);
  if (near) {
    const factor = 10 ** scale;
    for (let i = 0; i < present.length; i++) w.int(ulpsBetween(present[i]!, Math.round(present[i]! * factor) / factor)!);
  }
  return w.length - start - saved;
}

const isValue = (v: number | null | undefined): v is number => v !== null && v !== undefined && !Number.isNaN(v);

/** The reference column's values scaled by `factor` at the rows where `column` has a value (0 where it has none), or null past MAX_SCALED. */
function refIntegers(ref: readonly (number | null)[], column: readonly (number | null)[], factor: number): number[] | null {
  const out: number[] = [];
  for (let row = 0; row < column.length; row++) {
    if (!isValue(column[row])) continue;
    const v = ref[row];
    const scaled = isValue(v) ? Math.round(v * factor) : 0;
    if (!(Math.abs(scaled) < MAX_SCALED)) return null;
    out.push(scaled);
  }
  return out;
}

function readColumn(r: Reader, rows: number, allowNear = false, ref?: readonly (number | null)[], chosen = false, divisors = false): (number | null)[] {
  const modeByte = r.byte();
  if (modeByte & NEAR && !allowNear) throw new RangeError('chunk holds a column of near-scaled values where none may be');
  const mode = modeByte & 0x03;
  if (mode === ALL_ABSENT) return new Array<null>(rows).fill(null);
  if (ref && mode === XOR) throw new RangeError('chunk holds a float column coded against another');
  const scale = (modeByte >> 2) & 0x0f;
  if (scale > MAX_SCALE) throw new RangeError(`chunk holds a column of scale ${scale}`);
  let has: boolean[] | null = null;
  if (modeByte & HAS_ABSENT) {
    has = [];
    for (let at = 0; at < rows; at += 8) {
      const bits = r.byte();
      for (let i = 0; i < 8 && at + i < rows; i++) has.push((bits & (1 << i)) !== 0);
    }
  }
  const count = has ? has.filter(Boolean).length : rows;
  let values: number[] = [];
  if (mode === XOR) readXor(r, count, values);
  else {
    if (chosen) values = readChosen(r, count, divisors, new Array<number>(count));
    else readDeltas(r, count, mode === DELTA2 ? 2 : 1, values);
    if (ref) {
      // As refIntegers() on the writer's side: the reference's scaled value at each row that has one here.
      const factor = 10 ** scale;
      for (let row = 0, i = 0; row < rows; row++) {
        if (has && !has[row]) continue;
        const v = ref[row];
        const scaled = isValue(v) ? Math.round(v * factor) : 0;
        if (!(Math.abs(scaled) < MAX_SCALED)) throw new RangeError('chunk holds a column coded against one out of range');
        values[i] = values[i]! + scaled;
        i++;
      }
    }
    // Divided, not multiplied by 10^-scale: the division gives back exactly the value that was scaled.
    const factor = 10 ** scale;
    if (scale > 0) for (let i = 0; i < values.length; i++) values[i] = values[i]! / factor;
    if (modeByte & NEAR) for (let i = 0; i < values.length; i++) values[i] = addUlps(values[i]!, r.int());
  }
  if (!has) return values;
  let next = 0;
  return has.map((h) => (h ? values[next++]! : null));
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The body, before compression. */
function writeBody(chunk: ChunkRows): Uint8Array {
  const rows = chunk.tsMs.length;
  for (const [name, list] of [
    ['seq', chunk.seq],
    ['boot', chunk.boot],
    ['detail', chunk.detail],
  ] as const) {
    if (list.length !== rows) throw new RangeError(`chunk has ${rows} times but ${list.length} ${name} values`);
  }
  const w = new Writer();
  w.uint(rows);
  w.uint(chunk.columns.length);
  writeIntegers(w, chunk.tsMs, 'ts_ms');
  writeIntegers(w, chunk.seq, 'seq');
  // Boots: a table of the distinct ids, then runs of (index, length), a run per boot mostly.
  const boots = [...new Set(chunk.boot)];
  w.uint(boots.length);
  for (const b of boots) {
    const bytes = utf8.encode(b);
    w.uint(bytes.length);
    w.raw(bytes);
  }
  const bootIndex = new Map(boots.map((b, i) => [b, i]));
  for (let i = 0; i < rows; ) {
    let end = i + 1;
    while (end < rows && chunk.boot[end] === chunk.boot[i]) end++;
    w.uint(bootIndex.get(chunk.boot[i]!)!);
    w.uint(end - i);
    i = end;
  }
  for (const column of chunk.columns) {
    if (column.length !== rows) throw new RangeError(`chunk has ${rows} times but a column of ${column.length} values`);
    writeColumn(w, column, false, undefined, true, true);
  }
  const split = chunk.detail.some((d) => d !== null) ? splitDetails(chunk.detail) : null;
  if (split) {
    w.byte(DETAIL_SPLIT);
    w.uint(split.shapes.length);
    for (const shape of split.shapes) {
      w.uint(shape.length);
      w.raw(shape);
    }
    for (const s of split.shapeOf) w.uint(s);
    // The columns' paths are the shapes' (pathsOf), in the same order.
    for (const column of split.columns) writeColumn(w, column, false, undefined, true, true);
    return w.done();
  }
  w.byte(DETAIL_WHOLE);
  for (const d of chunk.detail) w.uint(d ? d.length + 1 : 0);
  for (const d of chunk.detail) if (d) w.raw(d);
  return w.done();
}

function readBody(body: Uint8Array, withDetail: boolean, format: number): ChunkRows {
  const r = new Reader(body);
  const rows = r.uint();
  const columnCount = r.uint();
  const tsMs = readIntegers(r, rows);
  const seq = readIntegers(r, rows);
  const boots: string[] = [];
  for (let n = r.uint(); boots.length < n; ) boots.push(fromUtf8.decode(r.raw(r.uint())));
  const boot: string[] = [];
  while (boot.length < rows) {
    const index = r.uint();
    const run = r.uint();
    if (index >= boots.length || run === 0 || boot.length + run > rows) throw new RangeError('chunk holds a bad boot run');
    for (let i = 0; i < run; i++) boot.push(boots[index]!);
  }
  const columns: (number | null)[][] = [];
  const chosen = format !== FORMAT_WHOLE_DETAIL;
  const divisors = format === FORMAT;
  for (let c = 0; c < columnCount; c++) columns.push(readColumn(r, rows, false, undefined, chosen, divisors));
  if (!withDetail) return { tsMs, seq, boot, columns, detail: new Array<null>(rows).fill(null) };
  const how = format === FORMAT_WHOLE_DETAIL ? DETAIL_WHOLE : r.byte();
  if (how === DETAIL_SPLIT) {
    const shapes: Uint8Array[] = [];
    for (let n = r.uint(); shapes.length < n; ) shapes.push(r.raw(r.uint()));
    const shapeOf: number[] = [];
    for (let i = 0; i < rows; i++) shapeOf.push(r.uint());
    const detailColumns = pathsOf(shapes).map(() => readColumn(r, rows, false, undefined, true, divisors));
    if (r.at !== body.length) throw new RangeError(`chunk has ${body.length - r.at} bytes past its end`);
    return { tsMs, seq, boot, columns, detail: joinDetails({ shapes, shapeOf, columns: detailColumns }) };
  }
  if (how !== DETAIL_WHOLE) throw new RangeError(`chunk holds its detail in an unknown way ${how}`);
  const lengths: number[] = [];
  for (let i = 0; i < rows; i++) lengths.push(r.uint());
  const detail = lengths.map((n) => (n === 0 ? null : r.raw(n - 1)));
  if (r.at !== body.length) throw new RangeError(`chunk has ${body.length - r.at} bytes past its end`);
  return { tsMs, seq, boot, columns, detail };
}

/**
 * The chunk's bytes. `compression` picks the compressor (brotli by default: the smallest of the
 * two on samples, bench/storage.ts); the body is kept as is when compressing does not shrink it.
 */
export function encodeChunk(chunk: ChunkRows, compression: Compression = 'brotli'): Uint8Array {
  const body = writeBody(chunk);
  let packed: Uint8Array = body;
  let used: Compression = 'none';
  if (compression === 'deflate') packed = deflateRawSync(body, { level: 9 });
  else if (compression === 'brotli') {
    packed = brotliCompressSync(body, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
  }
  if (packed !== body && packed.length < body.length) used = compression;
  else packed = body;
  const out = new Uint8Array(2 + packed.length);
  out[0] = FORMAT;
  out[1] = COMPRESSION[used];
  out.set(packed, 2);
  return out;
}

/**
 * readColumn() of a bucket chunk's column (near-scaled values allowed) into `out`, NaN
 * where a bucket has none; `ref` is the decoded column it is coded against (NaN: none). Its values
 * are decoded into `out`, or where some are absent into `scratch` (as long as `out`), not into
 * arrays made a column: a chart's read decodes some 30 columns of each of 28 chunks.
 */
function readColumnInto(r: Reader, out: Float64Array, ref: Float64Array | undefined, chosen: boolean, divisors: boolean, scratch: Float64Array): void {
  const rows = out.length;
  const modeByte = r.byte();
  const mode = modeByte & 0x03;
  if (mode === ALL_ABSENT) {
    out.fill(NaN);
    return;
  }
  if (ref && mode === XOR) throw new RangeError('chunk holds a float column coded against another');
  const scale = (modeByte >> 2) & 0x0f;
  if (scale > MAX_SCALE) throw new RangeError(`chunk holds a column of scale ${scale}`);
  // The bitmap of rows that have a value (bit i of byte i / 8), where the column has absent ones.
  let has = -1;
  let count = rows;
  if (modeByte & HAS_ABSENT) {
    has = r.at;
    count = 0;
    for (let at = 0; at < rows; at += 8) {
      const bits = r.byte() & (at + 8 <= rows ? 0xff : (1 << (rows - at)) - 1);
      for (let b = bits; b !== 0; b &= b - 1) count++;
    }
  }
  const bytes = r.bytes;
  const present = (row: number) => has < 0 || (bytes[has + (row >> 3)]! & (1 << (row & 7))) !== 0;
  const values = has < 0 ? out : scratch;
  if (mode === XOR) readXor(r, count, values);
  else {
    if (chosen) readChosen(r, count, divisors, values);
    else readDeltas(r, count, mode === DELTA2 ? 2 : 1, values);
    if (ref) {
      const factor = 10 ** scale;
      for (let row = 0, i = 0; row < rows; row++) {
        if (!present(row)) continue;
        const v = ref[row]!;
        const scaled = Number.isNaN(v) ? 0 : Math.round(v * factor);
        if (!(Math.abs(scaled) < MAX_SCALED)) throw new RangeError('chunk holds a column coded against one out of range');
        values[i] = values[i]! + scaled;
        i++;
      }
    }
    const factor = 10 ** scale;
    if (scale > 0) for (let i = 0; i < count; i++) values[i] = values[i]! / factor;
    if (modeByte & NEAR) for (let i = 0; i < count; i++) values[i] = addUlps(values[i]!, r.int());
  }
  if (has >= 0) for (let row = 0, i = 0; row < rows; row++) out[row] = present(row) ? values[i++]! : NaN;
}

// Brotli's quality 5: a simulated node's hour at 1 Hz (800 kB of body) in 18 ms to 261 kB, where
// deflate -6 takes 25 ms to 266 kB, brotli 6 23 ms to 258 kB and brotli 9 200 ms to 250 kB; brotli
// also decodes about twice as fast as deflate. Compaction encodes on the writer's thread, between batches.
const BROTLI_QUALITY = 5;
// A chunk compaction is done with is compressed again once at 10 (brotli's optimal parsing,
// recompressedCold): a simulated 1 Hz chunk of 900 rows 9 % smaller than at 5 and a 1/min one of
// 1,350 rows 11 %, for some 50 and 150 ms against 2 (load 3); 6 to 9 gain 0.3 to 4 %.
const COLD_BROTLI_QUALITY = 10;
const brotliCompressAsync = promisify(brotliCompress);

/**
 * A stored chunk (of samples or of buckets) with its body compressed at COLD_BROTLI_QUALITY, on
 * zlib's thread pool (the caller's thread goes on meanwhile), or null when it is not brotli's or
 * comes out no smaller. It decodes as before.
 */
export async function recompressedCold(bytes: Uint8Array): Promise<Uint8Array | null> {
  if (bytes[1] !== COMPRESSION.brotli) return null;
  const body = brotliDecompressSync(bytes.subarray(2));
  const packed = await brotliCompressAsync(body, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: COLD_BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  if (packed.length >= bytes.length - 2) return null;
  const out = new Uint8Array(2 + packed.length);
  out[0] = bytes[0]!;
  out[1] = COMPRESSION.brotli;
  out.set(packed, 2);
  return out;
}

/** The chunk's rows; without `detail`, the blobs are left unread (all null): the series and the export need none. */
export function decodeChunk(bytes: Uint8Array, { detail = true }: { detail?: boolean } = {}): ChunkRows {
  const { format, body } = sampleChunkBody(bytes);
  return readBody(body, detail, format);
}

/** A sample chunk's format and its body, decompressed. */
function sampleChunkBody(bytes: Uint8Array): { format: number; body: Uint8Array } {
  const format = bytes[0]!;
  if (bytes.length < 2 || (format !== FORMAT && format !== FORMAT_UNDIVIDED && format !== FORMAT_WHOLE_DETAIL))
    throw new RangeError(`not a chunk of format ${FORMAT} (first byte ${bytes[0]})`);
  const packed = bytes.subarray(2);
  switch (bytes[1]) {
    case COMPRESSION.none:
      return { format, body: packed };
    case COMPRESSION.deflate:
      return { format, body: inflateRawSync(packed) };
    case COMPRESSION.brotli:
      return { format, body: brotliDecompressSync(packed) };
    default:
      throw new RangeError(`chunk compressed by an unknown method ${bytes[1]}`);
  }
}

/**
 * Some columns of a sample chunk, as decodeBucketColumns() reads a bucket chunk's: its times and
 * seqs, and at each index of `wanted` (into the chunk's columns) that column, NaN where a row has
 * no value (and for one past the chunk's last); the others are read past, into scratch floats. A
 * restated 1 min window's chart (hub/storage/restated-minutes.ts) wants 6 columns of 18 from 14 chunks a week.
 */
export function decodeChunkColumns(bytes: Uint8Array, wanted: readonly number[]): SampleColumns {
  const { format, body } = sampleChunkBody(bytes);
  const r = new Reader(body);
  const rows = r.uint();
  const columnCount = r.uint();
  const all = new Float64Array(rows * (2 + wanted.length));
  const tsMs = all.subarray(0, rows);
  const seq = all.subarray(rows, 2 * rows);
  for (const out of [tsMs, seq]) {
    const order = r.byte();
    if (order !== 1 && order !== 2) throw new RangeError(`chunk holds an unknown integer order ${order}`);
    readDeltas(r, rows, order, out);
  }
  // The boots' table and runs of (index, length), read past.
  for (let n = r.uint(), i = 0; i < n; i++) {
    const length = r.uint();
    r.at += length;
  }
  for (let covered = 0; covered < rows; ) {
    r.uint();
    const run = r.uint();
    if (run === 0) throw new RangeError('chunk holds a bad boot run');
    covered += run;
  }
  const columns: Float64Array[] = [];
  const spare = spareFloats(2 * rows);
  const discard = spare.subarray(0, rows);
  const scratch = spare.subarray(rows, 2 * rows);
  const width = Math.max(columnCount, ...wanted.map((w) => w + 1));
  for (let c = 0; c < width; c++) {
    const at = wanted.indexOf(c);
    const out = at >= 0 ? all.subarray((2 + at) * rows, (3 + at) * rows) : discard;
    if (at >= 0) columns[c] = out;
    if (c >= columnCount) out.fill(NaN);
    else readColumnInto(r, out, undefined, format !== FORMAT_WHOLE_DETAIL, format === FORMAT, scratch);
  }
  return { tsMs, seq, columns };
}

/** What decodeChunkColumns() gives: columns[c] only for the columns asked for. */
export interface SampleColumns {
  tsMs: Float64Array;
  seq: Float64Array;
  columns: (Float64Array | undefined)[];
}

/**
 * Rollup buckets of one series or node over a window (hub/storage/sqlite/rollup-chunks.ts, hub/storage/sqlite/labelled-rollups.ts):
 * each bucket's start and sample count, then columns of values per bucket (min, max, sum, count
 * per metric; or a labelled series' sum).
 */
export interface BucketRows {
  bucketMs: number[];
  n: number[];
  /** columns[c][bucket]: null where the bucket has no value; an empty array for a column left unread. */
  columns: (number | null)[][];
}

// Bucket chunks have their own first byte: a reader of samples refuses them and the other way round.
// 0x12 leads each column with the column it is coded against (REF_COLUMNS back at most, 0: none);
// 0x13 may also divide a column's integers by their common divisor, as sample format 3 does
// (a bucket's min and max of memory in kB). 0x11 and 0x12 are read still.
const BUCKET_FORMAT = 0x13;
const BUCKET_FORMAT_UNDIVIDED = 0x12;
const BUCKET_FORMAT_NO_REF = 0x11;
// A rollup chunk's columns are min, max, sum and count of each metric: max and sum are coded
// against the min (one or two columns back) when that is shorter.
const REF_COLUMNS = 3;

/**
 * A window's buckets as bytes: the integer sequences and columns as in a sample chunk (sums may
 * be near-scaled, NEAR), each column led by its length so that a reader skips the ones it does
 * not need; then brotli, kept only when it shrinks the body.
 */
export function encodeBuckets(chunk: BucketRows): Uint8Array {
  const rows = chunk.bucketMs.length;
  if (chunk.n.length !== rows) throw new RangeError(`bucket chunk has ${rows} times but ${chunk.n.length} counts`);
  const w = new Writer();
  w.uint(rows);
  w.uint(chunk.columns.length);
  writeIntegers(w, chunk.bucketMs, 'bucket_ms');
  writeIntegers(w, chunk.n, 'n');
  chunk.columns.forEach((column, at) => {
    if (column.length !== rows) throw new RangeError(`bucket chunk has ${rows} times but a column of ${column.length} values`);
    let best = new Writer(rows + 16);
    best.byte(0);
    let bestCost = writeColumn(best, column, true, undefined, true, true)!;
    for (let back = 1; back <= REF_COLUMNS && back <= at; back++) {
      const c = new Writer(rows + 16);
      c.byte(back);
      const cost = writeColumn(c, column, true, chunk.columns[at - back], true, true);
      if (cost !== null && cost < bestCost) {
        best = c;
        bestCost = cost;
      }
    }
    w.uint(best.length);
    w.raw(best.done());
  });
  const body = w.done();
  const packed = brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } });
  const compressed = packed.length < body.length;
  const out = new Uint8Array(2 + (compressed ? packed.length : body.length));
  out[0] = BUCKET_FORMAT;
  out[1] = compressed ? COMPRESSION.brotli : COMPRESSION.none;
  out.set(compressed ? packed : body, 2);
  return out;
}

/** A bucket chunk's buckets; columns `wanted` leaves out come back empty. */
export function decodeBuckets(bytes: Uint8Array, wanted: (column: number) => boolean = () => true): BucketRows {
  const { bucketMs, n, columns } = readBuckets(bytes, wanted);
  return { bucketMs, n, columns: columns.map((column, c) => (wanted(c) ? column : [])) };
}

/**
 * Some columns of a bucket chunk: its bucket starts, then each column asked for in the order asked,
 * NaN where a bucket has no value (and for a column past the chunk's last: written before the
 * registry grew). All in one Float64Array: a chart's reads keep these, and a value in a plain array
 * that holds nulls is a heap object of its own that a kept chunk ages through every scavenge.
 */
export interface BucketColumns {
  bucketMs: Float64Array;
  columns: Float64Array[];
}

export function decodeBucketColumns(bytes: Uint8Array, wanted: readonly number[]): BucketColumns {
  const layout = bucketLayout(bytes);
  const { r, rows, refs } = layout;
  const asked = new Set(wanted);
  const needed = neededColumns(refs, (c) => asked.has(c));
  const all = new Float64Array(rows * (1 + wanted.length));
  const bucketMs = all.subarray(0, rows);
  bucketMs.set(layout.bucketMs);
  const columns = wanted.map((_, k) => all.subarray((1 + k) * rows, (2 + k) * rows));
  // Those asked for into their place in `all`; the others needed (coded against), and the values
  // of a column with absent ones, into spare floats: a typed array made costs more than its decode.
  let spares = 0;
  for (let c = 0; c < needed.length; c++) if (needed[c] && !asked.has(c)) spares++;
  const spare = spareFloats(rows * (1 + spares));
  const scratch = spare.subarray(0, rows);
  const decoded: (Float64Array | undefined)[] = [];
  for (let c = 0, used = 1; c < layout.starts.length; c++) {
    if (!needed[c]) continue;
    const k = wanted.indexOf(c);
    const out = k >= 0 ? columns[k]! : spare.subarray(used * rows, ++used * rows);
    r.at = layout.starts[c]!;
    readColumnInto(r, out, refs[c]! >= 0 ? decoded[refs[c]!] : undefined, layout.format !== BUCKET_FORMAT_NO_REF, layout.format === BUCKET_FORMAT, scratch);
    if (r.at !== layout.ends[c]) throw new RangeError(`bucket chunk's column ${c} is not ${layout.ends[c]! - layout.starts[c]!} bytes long`);
    decoded[c] = out;
  }
  // Asked for twice, or past the chunk's last column (NaN); the first of each was decoded above.
  wanted.forEach((c, k) => {
    if (decoded[c] === undefined) columns[k]!.fill(NaN);
    else if (decoded[c] !== columns[k]) columns[k]!.set(decoded[c]!);
  });
  return { bucketMs, columns };
}

/** Floats a bucket chunk's decode uses while it runs (decodes run one at a time), grown as needed. */
let spare = new Float64Array(0);
const spareFloats = (n: number) => {
  if (spare.length < n) spare = new Float64Array(Math.max(n, 2 * spare.length));
  return spare;
};

/** A bucket chunk's body read up to its columns: its buckets' starts and counts, and where each column lies and which it is coded against (-1: none). */
interface BucketLayout {
  r: Reader;
  format: number;
  rows: number;
  bucketMs: number[];
  n: number[];
  starts: number[];
  ends: number[];
  refs: number[];
}

function bucketLayout(bytes: Uint8Array): BucketLayout {
  const format = bytes[0]!;
  if (bytes.length < 2 || (format !== BUCKET_FORMAT && format !== BUCKET_FORMAT_UNDIVIDED && format !== BUCKET_FORMAT_NO_REF))
    throw new RangeError(`not a bucket chunk (first byte ${bytes[0]})`);
  let body = bytes.subarray(2);
  if (bytes[1] === COMPRESSION.brotli) body = brotliDecompressSync(body);
  else if (bytes[1] !== COMPRESSION.none) throw new RangeError(`bucket chunk compressed by an unknown method ${bytes[1]}`);
  const r = new Reader(body);
  const rows = r.uint();
  const columnCount = r.uint();
  const bucketMs = readIntegers(r, rows);
  const n = readIntegers(r, rows);
  const starts: number[] = [];
  const ends: number[] = [];
  const refs: number[] = [];
  for (let c = 0; c < columnCount; c++) {
    const length = r.uint();
    const end = r.at + length;
    if (end > body.length) throw new RangeError('bucket chunk ends early');
    const back = format !== BUCKET_FORMAT_NO_REF && length > 0 ? r.byte() : 0;
    if (back > c) throw new RangeError(`bucket chunk's column ${c} is coded against one before its first`);
    starts.push(r.at);
    ends.push(end);
    refs.push(back === 0 ? -1 : c - back);
    r.at = end;
  }
  if (r.at !== body.length) throw new RangeError(`bucket chunk has ${body.length - r.at} bytes past its end`);
  return { r, format, rows, bucketMs, n, starts, ends, refs };
}

/** The columns to decode for those `wanted`: those, and the ones they are coded against. */
function neededColumns(refs: readonly number[], wanted: (column: number) => boolean): boolean[] {
  const needed = new Array<boolean>(refs.length).fill(false);
  for (let c = refs.length - 1; c >= 0; c--) {
    if (wanted(c)) needed[c] = true;
    if (needed[c] && refs[c]! >= 0) needed[refs[c]!] = true;
  }
  return needed;
}

/** A bucket chunk's buckets, with the columns `wanted` needs decoded, the others empty. */
function readBuckets(bytes: Uint8Array, wanted: (column: number) => boolean): BucketRows {
  const { r, format, rows, bucketMs, n, starts, ends, refs } = bucketLayout(bytes);
  const needed = neededColumns(refs, wanted);
  const decoded: (number | null)[][] = [];
  for (let c = 0; c < starts.length; c++) {
    if (!needed[c]) {
      decoded.push([]);
      continue;
    }
    r.at = starts[c]!;
    decoded.push(readColumn(r, rows, true, refs[c]! >= 0 ? decoded[refs[c]!] : undefined, format !== BUCKET_FORMAT_NO_REF, format === BUCKET_FORMAT));
    if (r.at !== ends[c]) throw new RangeError(`bucket chunk's column ${c} is not ${ends[c]! - starts[c]!} bytes long`);
  }
  return { bucketMs, n, columns: decoded };
}
