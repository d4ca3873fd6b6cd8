// A batch of samples reduced to what the store keeps, in a few flat arrays: built as messages
// arrive, so that a decoded sample dies young instead of waiting in the batch for its commit (at
// 20,000 samples a second, V8 promoted every one of them, and its scavenges took a third of the
// hub's thread); and handed to the SQLite writer's thread as a few arrays, not thousands of objects.
// For the same reason the batch keeps numbers in typed arrays (off the JS heap, never copied by a
// scavenge) and each distinct node, boot and process name once: a row holds the string's index, and
// the copy each message decoded dies young.
import { METRIC_NAMES, type Sample } from '../../protocol/index.ts';
import type { SamplePoint } from '../../shared/api-types.ts';
import { encodeDetail } from './sample-detail.ts';
import { toPoint } from './sample-point.ts';
import type { IncomingSample } from './store.ts';

/** The stored metrics, in the registry's order (protocol/metrics.ts): column c of a row is SAMPLE_COLUMNS[c]. */
export const SAMPLE_COLUMNS = METRIC_NAMES;

/** Per row: ts_ms, seq, seen_ms, clock_skew_ms, then the columns (NaN where the sample has no value). */
const WIDTH = 4 + SAMPLE_COLUMNS.length;
const SEEN = 2;
const SKEW = 3;
const FIRST_COLUMN = 4;

/** What the hub measured of a sample's time as it arrived (hub/ingest/sample-time.ts). */
export interface ArrivalClock {
  /** The hub's clock when it arrived. */
  receivedMs: number;
  /** A live sample's ts_ms minus the hub's estimate of when it was taken, ms; null for a replayed one or when unknown. */
  skewMs: number | null;
}

/** What a watermark needs of each stored sample (hub/ingest/ack-tracker.ts). */
export interface SampleKeys {
  readonly length: number;
  node(row: number): string;
  boot(row: number): string;
  seq(row: number): number;
}

/** The arrays, as posted between threads. Strings are held once each: row i's node is nodes[nodeOf[i]]. */
export interface PackedArrays {
  nodes: string[];
  nodeOf: Uint32Array;
  boots: string[];
  bootOf: Uint32Array;
  numbers: Float64Array;
  /** Each row's detail blob (hub/storage/sample-detail.ts), end to end; row i ends at detailEnds[i]. */
  details: Uint8Array;
  detailEnds: Uint32Array;
  /**
   * The payloads kept as a node's latest record: of each node's newest sample, and of its newest
   * sample with process lists. `rawRows[k]` is the row, `rawKinds[k]` LATEST, LATEST_PROCESSES or both.
   */
  raws: Uint8Array;
  rawEnds: Uint32Array;
  rawRows: Uint32Array;
  rawKinds: Uint8Array;
  /** The per-process history's rows: each process of a sample's top lists once (by CPU, by memory), of sample procRows[k]. */
  procRows: Uint32Array;
  procPids: Float64Array;
  procCpu: Float64Array;
  procRss: Float64Array;
  procNames: string[];
  procNameOf: Uint32Array;
}

export interface ProcessRow {
  row: number;
  pid: number;
  name: string;
  cpu_pct: number;
  rss_bytes: number;
}

// Distinct boot ids a batch may hold (of 10,000 at most, ingest's largest batch): keys node and boot
// indexes into one number below 2^53.
const BOOTS = 2 ** 24;

export const LATEST = 1;
export const LATEST_PROCESSES = 2;

export class PackedSamples implements SampleKeys {
  constructor(readonly arrays: PackedArrays) {}

  static pack(batch: readonly IncomingSample[]): PackedSamples {
    const builder = new PackedSamplesBuilder();
    for (const { node, sample, raw, point } of batch) builder.add(node, sample, point ?? toPoint(sample), raw);
    return builder.build();
  }

  get length(): number {
    return this.arrays.nodeOf.length;
  }

  node(row: number): string {
    return this.arrays.nodes[this.arrays.nodeOf[row]!]!;
  }

  boot(row: number): string {
    return this.arrays.boots[this.arrays.bootOf[row]!]!;
  }

  tsMs(row: number): number {
    return this.arrays.numbers[row * WIDTH]!;
  }

  seq(row: number): number {
    return this.arrays.numbers[row * WIDTH + 1]!;
  }

  /** The node's last-seen time this sample gives: its time, but never past its arrival (a clock ahead within the tolerance). */
  seenMs(row: number): number {
    return this.arrays.numbers[row * WIDTH + SEEN]!;
  }

  /** How far the node's clock was off at this live sample, ms; null for a replayed sample or when unknown. */
  clockSkewMs(row: number): number | null {
    const value = this.arrays.numbers[row * WIDTH + SKEW]!;
    return Number.isNaN(value) ? null : value;
  }

  /** Column `c` of SAMPLE_COLUMNS, null where the sample had none. */
  column(row: number, c: number): number | null {
    const value = this.arrays.numbers[row * WIDTH + FIRST_COLUMN + c]!;
    return Number.isNaN(value) ? null : value;
  }

  detail(row: number): Uint8Array {
    const { details, detailEnds } = this.arrays;
    return details.subarray(row === 0 ? 0 : detailEnds[row - 1], detailEnds[row]);
  }

  /** The rows whose payload becomes a node's latest record (LATEST) and/or latest process lists (LATEST_PROCESSES). */
  *latestRecords(): Generator<{ row: number; kinds: number; raw: Uint8Array }> {
    const { raws, rawEnds, rawRows, rawKinds } = this.arrays;
    for (let k = 0; k < rawRows.length; k++) {
      yield { row: rawRows[k]!, kinds: rawKinds[k]!, raw: raws.subarray(k === 0 ? 0 : rawEnds[k - 1], rawEnds[k]) };
    }
  }

  *processes(): Generator<ProcessRow> {
    const { procRows, procPids, procCpu, procRss, procNames, procNameOf } = this.arrays;
    for (let k = 0; k < procRows.length; k++)
      yield { row: procRows[k]!, pid: procPids[k]!, name: procNames[procNameOf[k]!]!, cpu_pct: procCpu[k]!, rss_bytes: procRss[k]! };
  }
}

/** A node's newest sample so far (and newest with process lists): whose payload becomes its latest record. */
interface Newest {
  row: number;
  tsMs: number;
  raw: Uint8Array;
}

/** Makes the row a node's newest unless an older row says a later time; the entry is reused, not replaced, once per sample. */
function keepNewest(newest: Map<number, Newest>, nodeIndex: number, row: number, tsMs: number, raw: Uint8Array): void {
  const held = newest.get(nodeIndex);
  if (!held) newest.set(nodeIndex, { row, tsMs, raw });
  else if (tsMs >= held.tsMs) {
    held.row = row;
    held.tsMs = tsMs;
    held.raw = raw;
  }
}

/** Packs samples one at a time as they arrive; build() hands over the batch (a builder is used once). */
export class PackedSamplesBuilder {
  private readonly nodes = new StringTable();
  private readonly nodeOf = new GrowableArray(Uint32Array);
  private readonly boots = new StringTable();
  private readonly bootOf = new GrowableArray(Uint32Array);
  private numbers = new Float64Array(1024 * WIDTH);
  private readonly details = new GrowableBytes();
  private readonly detailEnds = new GrowableArray(Uint32Array);
  /** By node index. */
  private readonly newest = new Map<number, Newest>();
  private readonly newestWithProcesses = new Map<number, Newest>();
  private readonly procRows = new GrowableArray(Uint32Array);
  private readonly procPids = new GrowableArray(Float64Array);
  private readonly procCpu = new GrowableArray(Float64Array);
  private readonly procRss = new GrowableArray(Float64Array);
  private readonly procNames = new StringTable();
  private readonly procNameOf = new GrowableArray(Uint32Array);
  /** The seqs in the batch so far, by node and boot index (nodeIndex * BOOTS + bootIndex). */
  private readonly seqsByBoot = new Map<number, Set<number>>();

  get length(): number {
    return this.nodeOf.length;
  }

  /**
   * Adds a sample, with ts_ms as it is to be stored and `clock` as ingest measured it (absent: its
   * time is taken as it is). False, and nothing added, for a second copy of a sample already in the
   * batch (same node, boot and seq, whatever its time): the store counts the first, and a copy must
   * not become the node's latest record.
   */
  add(node: string, sample: Sample, point: SamplePoint, raw: Uint8Array, clock?: ArrivalClock): boolean {
    const nodeIndex = this.nodes.indexOf(node);
    const bootIndex = this.boots.indexOf(sample.boot);
    const bootKey = nodeIndex * BOOTS + bootIndex;
    let seqs = this.seqsByBoot.get(bootKey);
    if (!seqs) this.seqsByBoot.set(bootKey, (seqs = new Set()));
    if (seqs.has(sample.seq)) return false;
    seqs.add(sample.seq);
    const row = this.nodeOf.length;
    if ((row + 1) * WIDTH > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.nodeOf.push(nodeIndex);
    this.bootOf.push(bootIndex);
    const at = row * WIDTH;
    this.numbers[at] = sample.ts_ms;
    this.numbers[at + 1] = sample.seq;
    this.numbers[at + SEEN] = clock ? Math.min(sample.ts_ms, clock.receivedMs) : sample.ts_ms;
    this.numbers[at + SKEW] = clock?.skewMs ?? NaN;
    for (let c = 0; c < SAMPLE_COLUMNS.length; c++) this.numbers[at + FIRST_COLUMN + c] = point[SAMPLE_COLUMNS[c]!] ?? NaN;
    this.detailEnds.push(this.details.append(encodeDetail(sample)));
    // The last of equal timestamps wins, as it did when each sample was written in turn.
    keepNewest(this.newest, nodeIndex, row, sample.ts_ms, raw);
    if (!sample.top_cpu) return true;
    keepNewest(this.newestWithProcesses, nodeIndex, row, sample.ts_ms, raw);
    const first = this.procPids.length;
    for (const list of [sample.top_cpu, sample.top_mem]) {
      for (const p of list ?? []) {
        if (this.procPids.lastIndexOf(p.pid, first) >= 0) continue; // in both lists
        this.procRows.push(row);
        this.procPids.push(p.pid);
        this.procCpu.push(p.cpu_pct);
        this.procRss.push(p.rss_bytes);
        this.procNameOf.push(this.procNames.indexOf(p.name));
      }
    }
    return true;
  }

  build(): PackedSamples {
    const kinds = new Map<number, { kinds: number; raw: Uint8Array }>();
    for (const { row, raw } of this.newest.values()) kinds.set(row, { kinds: LATEST, raw });
    for (const { row, raw } of this.newestWithProcesses.values()) kinds.set(row, { kinds: (kinds.get(row)?.kinds ?? 0) | LATEST_PROCESSES, raw });
    const raws = new GrowableBytes();
    const rawEnds = Uint32Array.from(kinds.values(), ({ raw }) => raws.append(raw));
    return new PackedSamples({
      nodes: this.nodes.values,
      nodeOf: this.nodeOf.done(),
      boots: this.boots.values,
      bootOf: this.bootOf.done(),
      numbers: this.numbers.slice(0, this.length * WIDTH),
      details: this.details.bytes(),
      detailEnds: this.detailEnds.done(),
      raws: raws.bytes(),
      rawEnds,
      rawRows: Uint32Array.from(kinds.keys()),
      rawKinds: Uint8Array.from(kinds.values(), (k) => k.kinds),
      procRows: this.procRows.done(),
      procPids: this.procPids.done(),
      procCpu: this.procCpu.done(),
      procRss: this.procRss.done(),
      procNames: this.procNames.values,
      procNameOf: this.procNameOf.done(),
    });
  }
}

/** Each distinct string once, by its index. */
class StringTable {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.push(value) - 1;
      this.index.set(value, i);
    }
    return i;
  }
}

/** Numbers appended to a typed array grown by doubling. */
class GrowableArray<T extends Float64Array | Uint32Array> {
  private array: T;
  length = 0;

  constructor(private readonly Type: { new (length: number): T }) {
    this.array = new Type(1024);
  }

  push(value: number): void {
    if (this.length === this.array.length) {
      const grown = new this.Type(this.length * 2);
      grown.set(this.array);
      this.array = grown;
    }
    this.array[this.length++] = value;
  }

  /** Where `value` is at or after `from`, searching from the end; -1 when it is not. */
  lastIndexOf(value: number, from: number): number {
    for (let i = this.length - 1; i >= from; i--) if (this.array[i] === value) return i;
    return -1;
  }

  /** What was pushed, in an array of its own. */
  done(): T {
    return this.array.slice(0, this.length) as T;
  }
}

/** Bytes appended end to end into one buffer of its own, grown by doubling. */
class GrowableBytes {
  private buffer = new Uint8Array(64 * 1024);
  private length = 0;

  /** Appends `bytes` and returns where they end. */
  append(bytes: Uint8Array): number {
    if (this.length + bytes.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    return (this.length += bytes.length);
  }

  /** What was appended, in a buffer of its own. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
