// Watch samples on `remonitor/<node>/procs`: what a watch (a session) saw of its processes at one
// moment. A CBOR map with small integer keys, like the metrics sample; rows are tuples by position.
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { ProtocolError } from './codec.ts';

export const PROCS_VERSION = 1;
export const MAX_PROCS_PAYLOAD_BYTES = 64 * 1024;
/** A watch follows at most this many processes at once (a pattern matching everything is a mistake). */
export const MAX_WATCHED = 256;

/** One matched process. Memory in bytes; absent (null on the wire) means unknown. */
export interface WatchedProcess {
  pid: number;
  name: string;
  rss_bytes: number;
  vsize_bytes: number;
  /** % of one core since the previous watch sample; null on the first sight of the process. */
  cpu_pct: number | null;
  threads: number;
  /** /proc/<pid>/status RssAnon, RssFile, VmSwap: null where unreadable (not Linux, not ours). */
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  swap_bytes: number | null;
  /** The process has gone: this row carries its last values and is sent once. */
  exited: boolean;
}

export interface ProcsSample {
  v: number;
  session: string;
  seq: number;
  ts_ms: number;
  /** The target as text (`name:nginx`, `pid:42`, `cmdline:app.js`). */
  target: string;
  interval_ms: number;
  procs: WatchedProcess[];
  /** The last sample of the session (unwatch, or the recorded command exited). */
  ended?: boolean;
}

/** The wire layout; PROTOCOL.md "Watch samples" documents the same. */
export const PROCS_KEYS = { v: 0, session: 1, seq: 2, ts_ms: 3, target: 4, interval_ms: 5, procs: 6, ended: 7 } as const;
/** Tuple positions of one process row. A later version may append, never reorder. */
export const PROC_ROW = ['pid', 'name', 'rss_bytes', 'vsize_bytes', 'cpu_pct', 'threads', 'rss_anon_bytes', 'rss_file_bytes', 'swap_bytes', 'exited'] as const;

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT, int64AsNumber: true } as ConstructorParameters<
  typeof Decoder
>[0]);

export function encodeProcs(s: ProcsSample): Uint8Array {
  const wire = new Map<number, unknown>([
    [PROCS_KEYS.v, s.v],
    [PROCS_KEYS.session, s.session],
    [PROCS_KEYS.seq, s.seq],
    [PROCS_KEYS.ts_ms, s.ts_ms],
    [PROCS_KEYS.target, s.target],
    [PROCS_KEYS.interval_ms, s.interval_ms],
    [PROCS_KEYS.procs, s.procs.map((p) => PROC_ROW.map((k) => (k === 'exited' ? p.exited : p[k])))],
  ]);
  if (s.ended) wire.set(PROCS_KEYS.ended, true);
  return encoder.encode(wire);
}

export function decodeProcs(bytes: Uint8Array): ProcsSample {
  if (bytes.length === 0) throw new ProtocolError('procs: empty payload');
  if (bytes.length > MAX_PROCS_PAYLOAD_BYTES) throw new ProtocolError(`procs: payload is ${bytes.length} bytes, the limit is ${MAX_PROCS_PAYLOAD_BYTES}`);
  let wire: unknown;
  try {
    wire = decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError(`procs: not valid CBOR (${(err as Error).message})`);
  }
  if (!(wire instanceof Map)) throw new ProtocolError('procs: expected a CBOR map');
  const get = (k: keyof typeof PROCS_KEYS) => wire.get(PROCS_KEYS[k]);
  const uint = (v: unknown, at: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new ProtocolError(`procs: ${at} must be a non-negative integer, got ${String(v)}`, at);
    return v;
  };
  const optUint = (v: unknown, at: string): number | null => (v === null || v === undefined ? null : uint(v, at));
  const text = (v: unknown, at: string): string => {
    if (typeof v !== 'string' || v.length > 256) throw new ProtocolError(`procs: ${at} must be a text of at most 256 characters`, at);
    return v;
  };
  const v = uint(get('v'), 'v');
  if (v < 1 || v > PROCS_VERSION) throw new ProtocolError(`procs: unsupported version ${v}, this side understands up to ${PROCS_VERSION}`, 'v');
  const rows = get('procs');
  if (!Array.isArray(rows) || rows.length > MAX_WATCHED) throw new ProtocolError(`procs: "procs" must be an array of at most ${MAX_WATCHED} rows`, 'procs');
  const procs = rows.map((row: unknown, i: number): WatchedProcess => {
    if (!Array.isArray(row) || row.length < PROC_ROW.length)
      throw new ProtocolError(`procs: procs[${i}] must be an array of ${PROC_ROW.length} items`, 'procs');
    const cpu = row[4];
    if (cpu !== null && (typeof cpu !== 'number' || !Number.isFinite(cpu) || cpu < 0))
      throw new ProtocolError(`procs: procs[${i}].cpu_pct must be a number ≥ 0 or null`, 'procs');
    return {
      pid: uint(row[0], `procs[${i}].pid`),
      name: text(row[1], `procs[${i}].name`),
      rss_bytes: uint(row[2], `procs[${i}].rss_bytes`),
      vsize_bytes: uint(row[3], `procs[${i}].vsize_bytes`),
      cpu_pct: cpu as number | null,
      threads: uint(row[5], `procs[${i}].threads`),
      rss_anon_bytes: optUint(row[6], `procs[${i}].rss_anon_bytes`),
      rss_file_bytes: optUint(row[7], `procs[${i}].rss_file_bytes`),
      swap_bytes: optUint(row[8], `procs[${i}].swap_bytes`),
      exited: row[9] === true,
    };
  });
  const sample: ProcsSample = {
    v,
    session: text(get('session'), 'session'),
    seq: uint(get('seq'), 'seq'),
    ts_ms: uint(get('ts_ms'), 'ts_ms'),
    target: text(get('target') ?? '', 'target'),
    interval_ms: uint(get('interval_ms') ?? 0, 'interval_ms'),
    procs,
  };
  if (get('ended') === true) sample.ended = true;
  return sample;
}

/** What a session sample adds up to: the sum over the live (not exited) processes. */
export interface ProcsTotals {
  rss_bytes: number;
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  swap_bytes: number | null;
  vsize_bytes: number;
  cpu_pct: number | null;
  count: number;
}

export function procsTotals(procs: readonly WatchedProcess[]): ProcsTotals {
  const live = procs.filter((p) => !p.exited);
  const sum = (k: 'rss_anon_bytes' | 'rss_file_bytes' | 'swap_bytes' | 'cpu_pct'): number | null =>
    live.length > 0 && live.every((p) => p[k] !== null) ? live.reduce((a, p) => a + (p[k] as number), 0) : null;
  return {
    rss_bytes: live.reduce((a, p) => a + p.rss_bytes, 0),
    rss_anon_bytes: sum('rss_anon_bytes'),
    rss_file_bytes: sum('rss_file_bytes'),
    swap_bytes: sum('swap_bytes'),
    vsize_bytes: live.reduce((a, p) => a + p.vsize_bytes, 0),
    cpu_pct: sum('cpu_pct'),
    count: live.length,
  };
}
