// A batch of samples reduced to what the samples table stores, in a few flat arrays: built on
// ingest's thread, handed to the SQLite writer's thread without copying each sample object
// (structured clone of the nested sample objects would cost about as much as inserting them).
import { encodeDetail } from './sample-detail.ts';
import { toPoint } from './sample-point.ts';
import type { IncomingSample } from './store.ts';

export const SAMPLE_COLUMNS = [
  'cpu_pct', 'mem_pct', 'mem_used_bytes', 'swap_pct', 'swap_used_bytes', 'disk_pct', 'disk_read_bps',
  'disk_write_bps', 'net_rx_bps', 'net_tx_bps', 'temp_c', 'load_1', 'load_5', 'load_15', 'procs_total', 'uptime_s',
] as const;

/** Per row: ts_ms, seq, then the columns (NaN where the sample has no value). */
const WIDTH = 2 + SAMPLE_COLUMNS.length;

/** What a watermark needs of each stored sample (hub/ack-tracker.ts). */
export interface SampleKeys {
  readonly length: number;
  node(row: number): string;
  boot(row: number): string;
  seq(row: number): number;
}

/** The arrays, as posted between threads (the typed arrays' buffers are transferred, not copied). */
export interface PackedArrays {
  nodes: string[];
  boots: string[];
  numbers: Float64Array;
  /** Each row's detail blob (hub/sample-detail.ts), end to end; row i ends at detailEnds[i]. */
  details: Uint8Array;
  detailEnds: Uint32Array;
  /**
   * The payloads kept as a node's latest record: of each node's newest sample, and of its newest
   * sample with process lists. `rawRows[k]` is the row, `rawKinds[k]` 1 for latest, 2 for processes, 3 both.
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
}

export interface ProcessRow {
  row: number;
  pid: number;
  name: string;
  cpu_pct: number;
  rss_bytes: number;
}

export const LATEST = 1;
export const LATEST_PROCESSES = 2;

export class PackedSamples implements SampleKeys {
  constructor(readonly arrays: PackedArrays) {}

  static pack(batch: readonly IncomingSample[]): PackedSamples {
    const n = batch.length;
    const numbers = new Float64Array(n * WIDTH);
    const details: Uint8Array[] = new Array(n);
    const newest = new Map<string, number>();
    const newestWithProcesses = new Map<string, number>();
    const processes: ProcessRow[] = [];
    for (let i = 0; i < n; i++) {
      const { node, sample } = batch[i]!;
      const point = batch[i]!.point ?? toPoint(sample);
      const at = i * WIDTH;
      numbers[at] = sample.ts_ms;
      numbers[at + 1] = sample.seq;
      for (let c = 0; c < SAMPLE_COLUMNS.length; c++) numbers[at + 2 + c] = point[SAMPLE_COLUMNS[c]!] ?? NaN;
      details[i] = encodeDetail(sample);
      // The last of equal timestamps wins, as it did when each was written in turn.
      if (sample.ts_ms >= (batch[newest.get(node) ?? -1]?.sample.ts_ms ?? -1)) newest.set(node, i);
      if (sample.top_cpu && sample.ts_ms >= (batch[newestWithProcesses.get(node) ?? -1]?.sample.ts_ms ?? -1)) newestWithProcesses.set(node, i);
      if (sample.top_cpu) {
        const first = processes.length;
        for (const p of [...sample.top_cpu, ...(sample.top_mem ?? [])]) {
          let seen = false;
          for (let k = first; k < processes.length && !seen; k++) seen = processes[k]!.pid === p.pid;
          if (!seen) processes.push({ row: i, pid: p.pid, name: p.name, cpu_pct: p.cpu_pct, rss_bytes: p.rss_bytes });
        }
      }
    }
    const kinds = new Map<number, number>();
    for (const row of newest.values()) kinds.set(row, LATEST);
    for (const row of newestWithProcesses.values()) kinds.set(row, (kinds.get(row) ?? 0) | LATEST_PROCESSES);
    const rawRows = Uint32Array.from(kinds.keys());
    const [detailBytes, detailEnds] = concat(details);
    const [raws, rawEnds] = concat(Array.from(rawRows, (row) => batch[row]!.raw));
    return new PackedSamples({
      nodes: batch.map((s) => s.node),
      boots: batch.map((s) => s.sample.boot),
      numbers,
      details: detailBytes,
      detailEnds,
      raws,
      rawEnds,
      rawRows,
      rawKinds: Uint8Array.from(kinds.values()),
      procRows: Uint32Array.from(processes, (p) => p.row),
      procPids: Float64Array.from(processes, (p) => p.pid),
      procCpu: Float64Array.from(processes, (p) => p.cpu_pct),
      procRss: Float64Array.from(processes, (p) => p.rss_bytes),
      procNames: processes.map((p) => p.name),
    });
  }

  get length(): number {
    return this.arrays.nodes.length;
  }

  node(row: number): string {
    return this.arrays.nodes[row]!;
  }

  boot(row: number): string {
    return this.arrays.boots[row]!;
  }

  tsMs(row: number): number {
    return this.arrays.numbers[row * WIDTH]!;
  }

  seq(row: number): number {
    return this.arrays.numbers[row * WIDTH + 1]!;
  }

  /** Column `c` of SAMPLE_COLUMNS, null where the sample had none. */
  column(row: number, c: number): number | null {
    const value = this.arrays.numbers[row * WIDTH + 2 + c]!;
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
    const { procRows, procPids, procCpu, procRss, procNames } = this.arrays;
    for (let k = 0; k < procRows.length; k++) yield { row: procRows[k]!, pid: procPids[k]!, name: procNames[k]!, cpu_pct: procCpu[k]!, rss_bytes: procRss[k]! };
  }

  /** The buffers postMessage may move to the other thread instead of copying. */
  get transferList(): ArrayBuffer[] {
    const { numbers, details, detailEnds, raws, rawEnds, rawRows, rawKinds, procRows, procPids, procCpu, procRss } = this.arrays;
    return [numbers, details, detailEnds, raws, rawEnds, rawRows, rawKinds, procRows, procPids, procCpu, procRss].map((a) => a.buffer as ArrayBuffer);
  }
}

/** Byte arrays end to end in one buffer of its own, with where each ends. */
function concat(parts: readonly Uint8Array[]): [Uint8Array, Uint32Array] {
  const ends = new Uint32Array(parts.length);
  let total = 0;
  for (let i = 0; i < parts.length; i++) ends[i] = total += parts[i]!.length;
  const out = new Uint8Array(total);
  for (let i = 0; i < parts.length; i++) out.set(parts[i]!, i === 0 ? 0 : ends[i - 1]);
  return [out, ends];
}
