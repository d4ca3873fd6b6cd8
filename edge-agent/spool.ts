// The agent's on-disk spool: every sample is written here, and made durable, before it is sent;
// it is freed only when the hub acknowledges that it has stored it (protocol/ack.ts).
//
// Layout of the spool directory:
//   spool.json               { boot, dropped, acked }: identity and counters, written atomically
//   <firstSeq, 16 digits>.seg segment files, append-only; the name is the seq of the first record
// A record is `u32 length | u32 crc32(body) | body`, body = `f64 seq | f64 ts_ms | CBOR sample`,
// little endian. seq is +1 per record for the whole life of the spool, so a segment holds exactly
// the seqs from its name up to the next segment's name − 1.
//
// Durability: records are published only after flush() has written and fdatasync'd them, so a
// record lost to a crash (a torn tail, discarded on open) was never seen by anyone and its seq may be
// given again; a seq that left the machine is never reused.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from './crc32.ts';

export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SPOOL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

const HEADER_BYTES = 8;
const BODY_PREFIX_BYTES = 16;
/** A record longer than this is corruption, not data (a sample is under 4 KB). */
const MAX_RECORD_BYTES = 256 * 1024;
const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** `$XDG_STATE_HOME/remonitor/spool`, else `~/.local/state/remonitor/spool`: per user, survives reboots. */
export function defaultSpoolDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'remonitor', 'spool');
}

export interface SpoolOptions {
  dir: string;
  maxBytes?: number;
  maxAgeMs?: number;
  segmentBytes?: number;
  now?: () => number;
}

export interface SpoolRecord {
  seq: number;
  tsMs: number;
  payload: Buffer;
}

interface Segment {
  firstSeq: number;
  path: string;
  /** Bytes on disk plus bytes waiting in `pending` for this segment. */
  bytes: number;
  /** ts_ms of its first record (for the age cap); NaN when unknown. */
  firstTs: number;
}

interface SpoolMeta {
  boot: string;
  dropped: number;
  acked: number;
}

export interface SpoolOpenReport {
  /** Bytes cut from the tail of the newest segment because they did not form whole, valid records. */
  tornBytes: number;
  segments: number;
  records: number;
}

export class Spool {
  readonly boot: string;
  /** Samples dropped, never acknowledged, because the spool was over its size or age cap. */
  dropped: number;
  /** Every seq below this is acknowledged by the hub. */
  acked: number;
  readonly openReport: SpoolOpenReport;
  private nextSeqValue: number;
  private readonly segments: Segment[] = [];
  private pending: { segment: Segment; buf: Buffer }[] = [];
  /** The segment being appended to, open for append. */
  private handle: { segment: Segment; fd: number } | null = null;
  private cache: { firstSeq: number; buf: Buffer; offsets: number[] } | null = null;
  private closed = false;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private readonly metaPath: string;

  /** Opens (or creates) the spool in `dir`: checks every problem at once, then recovers the tail. */
  constructor(private readonly options: SpoolOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SPOOL_MAX_AGE_MS;
    // Drops go a segment at a time: keep segments small next to the cap so a drop is a small share.
    this.segmentBytes = Math.max(4096, Math.min(options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, Math.floor(this.maxBytes / 8)));
    this.now = options.now ?? Date.now;
    const problems: string[] = [];
    if (!Number.isFinite(this.maxBytes) || this.maxBytes < 64 * 1024) problems.push(`spool max bytes must be at least 65536, got ${this.maxBytes}`);
    if (!Number.isFinite(this.maxAgeMs) || this.maxAgeMs <= 0) problems.push(`spool max age must be a positive duration, got ${this.maxAgeMs} ms`);
    if (problems.length > 0) throw new TypeError(`spool ${options.dir}: ${problems.join('; ')}`);
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (err) {
      throw new Error(`spool: cannot create directory ${options.dir}: ${(err as Error).message}`);
    }
    this.metaPath = join(options.dir, 'spool.json');
    const meta = this.readMeta();
    this.boot = meta.boot;
    this.dropped = meta.dropped;
    this.acked = meta.acked;
    this.openReport = this.loadSegments();
    const newest = this.segments.at(-1);
    this.nextSeqValue = newest ? newest.firstSeq + this.cachedCount(newest) : Math.max(meta.acked, 0);
    if (this.acked > this.nextSeqValue) this.acked = this.nextSeqValue;
  }

  get nextSeq(): number {
    return this.nextSeqValue;
  }

  /** The oldest seq still held; equal to nextSeq when the spool is empty. */
  get firstSeq(): number {
    const first = this.segments[0];
    return first ? Math.max(first.firstSeq, this.acked) : this.nextSeqValue;
  }

  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Records not yet acknowledged. */
  get unacked(): number {
    return this.nextSeqValue - this.firstSeq;
  }

  private readMeta(): SpoolMeta {
    if (existsSync(this.metaPath)) {
      try {
        const raw = JSON.parse(readFileSync(this.metaPath, 'utf8')) as Partial<SpoolMeta>;
        if (typeof raw.boot === 'string' && /^[0-9a-f]{8,64}$/.test(raw.boot)) {
          return { boot: raw.boot, dropped: Number(raw.dropped) || 0, acked: Number(raw.acked) || 0 };
        }
      } catch {
        // A meta file torn by a crash during the very first write: start a fresh identity below.
      }
    }
    const meta = { boot: randomHex(8), dropped: 0, acked: 0 };
    this.writeMeta(meta);
    return meta;
  }

  /** tmp + fsync + rename + directory fsync, so the file is either the old or the new one. */
  private writeMeta(meta: SpoolMeta = { boot: this.boot, dropped: this.dropped, acked: this.acked }): void {
    const tmp = `${this.metaPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(meta));
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.metaPath);
    this.syncDir();
  }

  private syncDir(): void {
    try {
      const fd = openSync(this.options.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the data files are still synced.
    }
  }

  private loadSegments(): SpoolOpenReport {
    const names = readdirSync(this.options.dir)
      .filter((n) => SEGMENT_NAME.test(n))
      .sort();
    let tornBytes = 0;
    let records = 0;
    for (const [i, name] of names.entries()) {
      const path = join(this.options.dir, name);
      const firstSeq = Number(SEGMENT_NAME.exec(name)![1]);
      const last = i === names.length - 1;
      if (last) {
        // Only the newest segment can end in a torn record: older ones were synced before the next began.
        const buf = readFileSync(path);
        const { offsets, end } = parseRecords(buf, firstSeq);
        if (end < buf.length) {
          tornBytes = buf.length - end;
          const fd = openSync(path, 'r+');
          try {
            ftruncateSync(fd, end);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
        }
        const segment = { firstSeq, path, bytes: end, firstTs: offsets.length > 0 ? buf.readDoubleLE(offsets[0]! + HEADER_BYTES + 8) : NaN };
        this.segments.push(segment);
        this.cache = { firstSeq, buf: buf.subarray(0, end), offsets };
        records += offsets.length;
      } else {
        this.segments.push({ firstSeq, path, bytes: statSync(path).size, firstTs: readFirstTs(path) });
      }
    }
    for (let i = 0; i + 1 < this.segments.length; i++) records += this.segments[i + 1]!.firstSeq - this.segments[i]!.firstSeq;
    // An empty newest segment (crash right after creating it) still names the next seq; keep it.
    return { tornBytes, segments: this.segments.length, records };
  }

  private cachedCount(segment: Segment): number {
    return this.cache && this.cache.firstSeq === segment.firstSeq ? this.cache.offsets.length : 0;
  }

  /** Gives the next seq to `build`, queues its record for the next flush, and returns it. */
  append(tsMs: number, build: (seq: number) => Uint8Array): SpoolRecord {
    if (this.closed) throw new Error('spool: append after close');
    const seq = this.nextSeqValue++;
    const encoded = build(seq);
    const record = Buffer.allocUnsafe(HEADER_BYTES + BODY_PREFIX_BYTES + encoded.length);
    record.writeUInt32LE(BODY_PREFIX_BYTES + encoded.length, 0);
    record.writeDoubleLE(seq, HEADER_BYTES);
    record.writeDoubleLE(tsMs, HEADER_BYTES + 8);
    record.set(encoded, HEADER_BYTES + BODY_PREFIX_BYTES);
    record.writeUInt32LE(crc32(record.subarray(HEADER_BYTES)), 4);
    // The payload sent live is the record's own bytes: one copy of the encoding, not two.
    const payload = record.subarray(HEADER_BYTES + BODY_PREFIX_BYTES);
    let segment = this.segments.at(-1);
    if (!segment || segment.bytes >= this.segmentBytes) {
      segment = { firstSeq: seq, path: join(this.options.dir, `${String(seq).padStart(16, '0')}.seg`), bytes: 0, firstTs: tsMs };
      this.segments.push(segment);
    }
    if (segment.bytes === 0) segment.firstTs = tsMs;
    segment.bytes += record.length;
    this.pending.push({ segment, buf: record });
    return { seq, tsMs, payload };
  }

  /**
   * Writes what append() queued and fdatasyncs it, both on the calling thread. The write lands in
   * the page cache (microseconds). The sync waits for the disk, but nothing is published before it
   * ends anyway; in the thread pool it cost a round trip and a second wake-up of the event loop on
   * every sample, 0.1–0.2 ms of the agent's ~2 ms (bench/agent-process.ts, side by side). What it
   * holds up besides is command handling, for as long as the disk takes (sub-millisecond here,
   * milliseconds on an SD card); a disk stalled for longer than the keepalive drops the agent's
   * broker connection, and the hub shows the node offline.
   */
  flush(): void {
    while (this.pending.length > 0) {
      const segment = this.pending[0]!.segment;
      const bufs: Buffer[] = [];
      while (this.pending.length > 0 && this.pending[0]!.segment === segment) bufs.push(this.pending.shift()!.buf);
      if (this.handle?.segment !== segment) {
        this.closeHandle();
        const created = !existsSync(segment.path);
        this.handle = { segment, fd: openSync(segment.path, 'a') };
        if (created) this.syncDir();
      }
      const buf = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
      for (let written = 0; written < buf.length; ) written += writeSync(this.handle.fd, buf, written);
      fdatasyncSync(this.handle.fd);
    }
  }

  private closeHandle(): void {
    if (!this.handle) return;
    const { fd } = this.handle;
    this.handle = null;
    closeSync(fd);
  }

  /** The hub has stored every seq below `next`: frees whole segments below it. */
  ack(next: number): void {
    if (next <= this.acked) return;
    this.acked = Math.min(next, this.nextSeqValue);
    let freed = false;
    // Never the newest segment: its name is what tells a restarted agent the next seq.
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      this.removeOldest();
      freed = true;
    }
    if (freed) this.writeMeta();
  }

  /** Drops the oldest segments while the spool is over its byte or age cap; returns how many unacked samples went. */
  enforceLimits(): number {
    const cutoff = this.now() - this.maxAgeMs;
    let lost = 0;
    while (this.segments.length > 1) {
      const [oldest, next] = [this.segments[0]!, this.segments[1]!];
      // The whole oldest segment is older than the cutoff when the next one began before it.
      const tooOld = next.firstTs < cutoff;
      if (this.bytes <= this.maxBytes && !tooOld) break;
      lost += Math.max(0, next.firstSeq - Math.max(oldest.firstSeq, this.acked));
      this.removeOldest();
    }
    if (lost > 0) {
      this.dropped += lost;
      this.writeMeta();
    }
    return lost;
  }

  private removeOldest(): void {
    const segment = this.segments.shift()!;
    if (this.cache?.firstSeq === segment.firstSeq) this.cache = null;
    try {
      unlinkSync(segment.path);
    } catch {
      // Already gone (removed by hand): nothing left to free.
    }
  }

  /**
   * Up to `max` flushed records from seq `from` on, in order. Reads one segment at a time, so memory
   * stays within a segment however full the spool is.
   */
  read(from: number, max: number): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    let seq = Math.max(from, this.firstSeq);
    const flushedEnd = this.nextSeqValue - this.pending.length;
    while (out.length < max && seq < flushedEnd) {
      const index = this.segments.findLastIndex((s) => s.firstSeq <= seq);
      if (index < 0) break;
      const segment = this.segments[index]!;
      const cache = this.load(segment, seq);
      const at = seq - segment.firstSeq;
      if (at >= cache.offsets.length) {
        // Damaged or short segment (bit rot): skip to the next one rather than stall replay forever.
        const next = this.segments[index + 1];
        if (!next) break;
        seq = next.firstSeq;
        continue;
      }
      for (let i = at; i < cache.offsets.length && out.length < max && seq < flushedEnd; i++, seq++) {
        const offset = cache.offsets[i]!;
        const length = cache.buf.readUInt32LE(offset);
        out.push({
          seq,
          tsMs: cache.buf.readDoubleLE(offset + HEADER_BYTES + 8),
          payload: cache.buf.subarray(offset + HEADER_BYTES + BODY_PREFIX_BYTES, offset + HEADER_BYTES + length),
        });
      }
    }
    return out;
  }

  private load(segment: Segment, seq: number): { firstSeq: number; buf: Buffer; offsets: number[] } {
    const cache = this.cache;
    if (cache && cache.firstSeq === segment.firstSeq && seq - segment.firstSeq < cache.offsets.length) return cache;
    let buf: Buffer;
    try {
      buf = readFileSync(segment.path);
    } catch {
      buf = Buffer.alloc(0);
    }
    const { offsets, end } = parseRecords(buf, segment.firstSeq);
    this.cache = { firstSeq: segment.firstSeq, buf: buf.subarray(0, end), offsets };
    return this.cache;
  }

  /** Writes what is pending, persists the counters, closes the file. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.closeHandle();
    this.writeMeta();
  }
}

/** Offsets of the valid records of a segment, in order, and where the valid part ends. */
function parseRecords(buf: Buffer, firstSeq: number): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES + BODY_PREFIX_BYTES <= buf.length) {
    const length = buf.readUInt32LE(offset);
    if (length < BODY_PREFIX_BYTES || length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > buf.length) break;
    const body = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(body) !== buf.readUInt32LE(offset + 4)) break;
    // A record in the wrong place (a stale copy) is as bad as a torn one.
    if (body.readDoubleLE(0) !== firstSeq + offsets.length) break;
    offsets.push(offset);
    offset += HEADER_BYTES + length;
  }
  return { offsets, end: offset };
}

/**
 * `bytes` random bytes as hex, from /dev/urandom. Loading node:crypto for the 8 bytes of a boot id,
 * read once when a spool is created, costs the agent about 0.9 MiB of resident memory for good.
 */
function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buf, 0, bytes, null) !== bytes) throw new Error('/dev/urandom: short read');
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom (Windows): Web Crypto, a global from Node 19 on; else Math.random, as a boot id
    // must be unique, not secret.
    if (globalThis.crypto) globalThis.crypto.getRandomValues(buf);
    else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  }
  return buf.toString('hex');
}

function readFirstTs(path: string): number {
  const buf = Buffer.alloc(HEADER_BYTES + BODY_PREFIX_BYTES);
  try {
    const fd = openSync(path, 'r');
    try {
      if (readSync(fd, buf, 0, buf.length, 0) < buf.length) return NaN;
    } finally {
      closeSync(fd);
    }
  } catch {
    return NaN;
  }
  return buf.readDoubleLE(HEADER_BYTES + 8);
}
