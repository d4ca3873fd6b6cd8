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
//
// Live mode (setLive(true), while the broker link is up): the hub acknowledges within seconds, so a
// sample need not touch the disk at all. New records stay in memory (the tail) and in a file on a RAM
// filesystem (`remonitor-<boot>.tail` in tailDir: it survives the process, not the machine), written
// but never synced. The tail goes to the segments, synced, when it grows past TAIL_MAX_RECORDS or
// TAIL_MAX_BYTES, when live mode ends (the link dropped) and at close. A seq handed out in live mode
// is covered first by `reserved` in spool.json (synced, a block at a time): a restart that finds no
// tail file (the machine lost power) starts at `reserved`, so no seq that may have left is reused.
// The seqs between the disk's end and `reserved` are then unknown: once the hub has acknowledged
// everything before them, the spool's first seq moves past them and the hub records whatever it
// lacks of them as lost.
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
/** Live tail bounds: past either, the tail is synced to the segments (a hub that stopped acking). */
export const TAIL_MAX_RECORDS = 60;
export const TAIL_MAX_BYTES = 64 * 1024;
/** Seqs reserved at a time in live mode: at least this many, more when a block lasted under a minute. */
const RESERVE_MIN = 60;
const RESERVE_MAX = 3600;
const RESERVE_PERIOD_MS = 60_000;
/** The tail file's header: f64 seq of its first record, f64 acked. */
const TAIL_HEADER_BYTES = 16;

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

/**
 * A directory on a RAM filesystem for the live tail: systemd's RuntimeDirectory, else
 * $XDG_RUNTIME_DIR, else /dev/shm; undefined when there is none (the tail then lives in memory only).
 */
export function defaultTailDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.RUNTIME_DIRECTORY?.split(':')[0], env.XDG_RUNTIME_DIR, '/dev/shm'];
  return candidates.find((dir): dir is string => dir !== undefined && dir.startsWith('/') && existsSync(dir));
}

export interface SpoolOptions {
  dir: string;
  maxBytes?: number;
  maxAgeMs?: number;
  segmentBytes?: number;
  now?: () => number;
  /** Where the live tail's file goes (see defaultTailDir); without it a kill loses the tail like a power cut. */
  tailDir?: string;
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
  /** Seqs below this may have been handed out in live mode (0 in spools written before it). */
  reserved: number;
  /** [from, to): seqs lost with the power, maybe sent, held nowhere (see `unknown`); [0, 0] for none. */
  unknown: [number, number];
}

export interface SpoolOpenReport {
  /** Bytes cut from the tail of the newest segment because they did not form whole, valid records. */
  tornBytes: number;
  segments: number;
  records: number;
  /** Tail records found in the tail file of a killed process and synced to the segments. */
  tailRecords: number;
  /** Seqs that may have been sent, then lost with the power before they were synced or acked. */
  unknownSeqs: number;
}

export interface SpoolStats {
  /** fsync/fdatasync calls, data and metadata. */
  syncs: number;
  /** Times the live tail was written to the segments. */
  spills: number;
}

export class Spool {
  readonly boot: string;
  /** Samples dropped, never acknowledged, because the spool was over its size or age cap. */
  dropped: number;
  /** Every seq below this is acknowledged by the hub. */
  acked: number;
  readonly openReport: SpoolOpenReport;
  readonly stats: SpoolStats = { syncs: 0, spills: 0 };
  private nextSeqValue: number;
  /** One past the last record in the segments (written or pending). */
  private diskEnd: number;
  /** Live mode: records go to the tail, not to the segments. */
  private live = false;
  /** Records from `nextSeq - tail.length` on, kept in memory (see Live mode above). */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** The tail file: its records run from `base` (acknowledged ones included) up to `offset`. */
  private tailFile: { path: string; fd: number; base: number; offset: number } | null = null;
  private reserved: number;
  private unknown: [number, number];
  private reserveBlock = RESERVE_MIN;
  private lastReserveMs = -Infinity;
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
    this.reserved = meta.reserved;
    this.unknown = meta.unknown;
    const loaded = this.loadSegments();
    const newest = this.segments.at(-1);
    this.nextSeqValue = newest ? newest.firstSeq + this.cachedCount(newest) : Math.max(meta.acked, 0);
    this.diskEnd = this.nextSeqValue;
    const recovered = this.readTailFile();
    let unknownSeqs = 0;
    if (recovered) {
      // Killed in live mode: the tail file has every record handed out (a record is written there
      // before it is sent); those below the disk's end were synced before the kill.
      this.acked = Math.max(this.acked, recovered.acked);
      this.nextSeqValue = Math.max(this.nextSeqValue, recovered.next);
      for (const record of recovered.records) {
        if (record.readDoubleLE(HEADER_BYTES) < Math.max(this.diskEnd, this.acked)) continue;
        this.tail.push(record);
        this.tailBytes += record.length;
      }
    } else if (this.reserved > this.nextSeqValue) {
      // Power lost in live mode: seqs up to `reserved` may have been sent; none is given again.
      unknownSeqs = this.reserved - this.nextSeqValue;
      this.unknown = [this.nextSeqValue, this.reserved];
      this.nextSeqValue = this.reserved;
    }
    if (this.acked > this.nextSeqValue) this.acked = this.nextSeqValue;
    this.skipUnknown();
    this.openReport = { ...loaded, tailRecords: this.tail.length, unknownSeqs };
    // Not live until the link is up: what the tail file held goes to the segments now.
    this.leaveLive();
    if (unknownSeqs > 0) this.writeMeta();
  }

  get nextSeq(): number {
    return this.nextSeqValue;
  }

  /** The oldest seq still held; equal to nextSeq when the spool is empty. */
  get firstSeq(): number {
    const first = this.segments[0];
    return Math.max(first ? first.firstSeq : this.tailBase, this.acked);
  }

  /** The seq of the tail's first record; nextSeq when the tail is empty. */
  private get tailBase(): number {
    return this.nextSeqValue - this.tail.length;
  }

  /**
   * The seqs lost with the power are held nowhere: once the hub has everything before them, the
   * spool counts them as acknowledged, and its first seq (which the hub is told) moves past them.
   */
  private skipUnknown(): number {
    const [from, to] = this.unknown;
    if (to === 0 || this.acked < from) return 0;
    this.unknown = [0, 0];
    const skipped = Math.max(0, to - this.acked);
    this.acked = Math.max(this.acked, to);
    return skipped;
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
          const unknown: [number, number] = Array.isArray(raw.unknown) ? [Number(raw.unknown[0]) || 0, Number(raw.unknown[1]) || 0] : [0, 0];
          return { boot: raw.boot, dropped: Number(raw.dropped) || 0, acked: Number(raw.acked) || 0, reserved: Number(raw.reserved) || 0, unknown };
        }
      } catch {
        // A meta file torn by a crash during the very first write: start a fresh identity below.
      }
    }
    const meta: SpoolMeta = { boot: randomHex(8), dropped: 0, acked: 0, reserved: 0, unknown: [0, 0] };
    this.writeMeta(meta);
    return meta;
  }

  /** tmp + fsync + rename + directory fsync, so the file is either the old or the new one. */
  private writeMeta(meta: SpoolMeta = { boot: this.boot, dropped: this.dropped, acked: this.acked, reserved: this.reserved, unknown: this.unknown }): void {
    const tmp = `${this.metaPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(meta));
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
      this.stats.syncs++;
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
        this.stats.syncs++;
      } finally {
        closeSync(fd);
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the data files are still synced.
    }
  }

  private loadSegments(): Omit<SpoolOpenReport, 'tailRecords' | 'unknownSeqs'> {
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

  private get tailPath(): string | null {
    return this.options.tailDir ? join(this.options.tailDir, `remonitor-${this.boot}.tail`) : null;
  }

  /** The tail file a killed process left, if any: its records, the seq after them, and its acked. */
  private readTailFile(): { records: Buffer[]; next: number; acked: number } | null {
    const path = this.tailPath;
    if (!path || !existsSync(path)) return null;
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch {
      return null;
    }
    if (buf.length < TAIL_HEADER_BYTES) return null;
    const base = buf.readDoubleLE(0);
    const acked = buf.readDoubleLE(8);
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(acked) || acked < 0) return null;
    const body = buf.subarray(TAIL_HEADER_BYTES);
    // Records of an earlier base after a reset (header rewritten, then killed before the truncate)
    // fail the seq check here, like a torn record: none of them was unacknowledged. No CRC yet: a
    // kill cuts a write short (the length check), and a power cut takes the whole file.
    const { offsets, end } = parseRecords(body, base, false);
    const records = offsets.map((offset, i) => Buffer.from(body.subarray(offset, offsets[i + 1] ?? end)));
    return { records, next: base + records.length, acked: Math.min(acked, base + records.length) };
  }

  /** Live mode on (the broker link is up) or off (down: the tail is synced to the segments first). */
  setLive(on: boolean): void {
    if (this.closed || on === this.live) return;
    if (!on) return this.leaveLive();
    this.flush();
    this.live = true;
    const path = this.tailPath;
    if (!path) return;
    try {
      const fd = openSync(path, 'w');
      this.tailFile = { path, fd, base: this.nextSeqValue, offset: TAIL_HEADER_BYTES };
      this.writeTailHeader();
    } catch {
      // No RAM filesystem to write to: the tail lives in memory only.
      this.tailFile = null;
    }
  }

  /** Synced: the tail in the segments, `reserved` back to nextSeq; then the tail file goes. */
  private leaveLive(): void {
    this.live = false;
    this.spill();
    if (this.reserved > this.nextSeqValue) {
      this.reserved = this.nextSeqValue;
      this.writeMeta();
    }
    if (this.tailFile) closeSync(this.tailFile.fd);
    this.tailFile = null;
    const path = this.tailPath;
    if (path) removeFile(path);
  }

  private writeTailHeader(): void {
    const file = this.tailFile;
    if (!file) return;
    const header = Buffer.allocUnsafe(TAIL_HEADER_BYTES);
    header.writeDoubleLE(file.base, 0);
    header.writeDoubleLE(this.acked, 8);
    this.tailWrite(() => writeSync(file.fd, header, 0, TAIL_HEADER_BYTES, 0));
  }

  /** A write to the tail file; if it fails (the RAM filesystem is full), the tail lives in memory only. */
  private tailWrite(write: () => void): void {
    try {
      write();
    } catch {
      const file = this.tailFile!;
      this.tailFile = null;
      try {
        closeSync(file.fd);
        removeFile(file.path);
      } catch {
        // Already closed, or the directory went away: nothing more to undo.
      }
    }
  }

  /**
   * The tail file anew with only the tail, in place of one grown long with acknowledged records
   * (acks arrive while new records keep coming, so the tail seldom empties). tmp + rename: a kill
   * leaves the old file or the new one.
   */
  private compactTailFile(): void {
    const file = this.tailFile;
    if (!file) return;
    const header = Buffer.allocUnsafe(TAIL_HEADER_BYTES);
    header.writeDoubleLE(this.tailBase, 0);
    header.writeDoubleLE(this.acked, 8);
    this.tailWrite(() => {
      file.base = this.tailBase;
      const tmp = `${file.path}.tmp`;
      writeFileSync(tmp, Buffer.concat([header, ...this.tail]));
      renameSync(tmp, file.path);
      closeSync(file.fd);
      file.fd = openSync(file.path, 'r+');
      file.offset = TAIL_HEADER_BYTES + this.tailBytes;
    });
  }

  /** Writes the tail to the segments and syncs it; the tail file then starts again, empty. */
  private spill(): void {
    if (this.tail.length > 0) {
      const first = this.tailBase;
      for (const [i, record] of this.tail.entries()) {
        record.writeUInt32LE(crc32(record.subarray(HEADER_BYTES)), 4);
        this.queueOnDisk(first + i, record.readDoubleLE(HEADER_BYTES + 8), record);
      }
      this.tail = [];
      this.tailBytes = 0;
      this.stats.spills++;
    }
    this.flush();
    this.resetTailFile();
  }

  /** The tail file holds nothing below tailBase: header first, so a kill in between leaves only stale records. */
  private resetTailFile(): void {
    const file = this.tailFile;
    if (!file) return;
    file.base = this.tailBase;
    if (file.offset === TAIL_HEADER_BYTES) return this.writeTailHeader();
    this.writeTailHeader();
    this.tailWrite(() => ftruncateSync(file.fd, TAIL_HEADER_BYTES));
    file.offset = TAIL_HEADER_BYTES;
  }

  /** In live mode, makes sure `seq` is below the synced reservation before it is handed out. */
  private reserve(seq: number): void {
    if (seq < this.reserved) return;
    const now = Date.now();
    // A block that lasted under a minute: the next is twice as long, so this write stays rare.
    if (now - this.lastReserveMs < RESERVE_PERIOD_MS) this.reserveBlock = Math.min(this.reserveBlock * 2, RESERVE_MAX);
    this.lastReserveMs = now;
    this.reserved = seq + this.reserveBlock;
    this.writeMeta();
  }

  /** Queues a record for the segments, starting a segment when the last is full or does not end at `seq`. */
  private queueOnDisk(seq: number, tsMs: number, record: Buffer): void {
    let segment = this.segments.at(-1);
    if (!segment || segment.bytes >= this.segmentBytes || this.diskEnd !== seq) {
      segment = { firstSeq: seq, path: join(this.options.dir, `${String(seq).padStart(16, '0')}.seg`), bytes: 0, firstTs: tsMs };
      this.segments.push(segment);
    }
    if (segment.bytes === 0) segment.firstTs = tsMs;
    segment.bytes += record.length;
    this.pending.push({ segment, buf: record });
    this.diskEnd = seq + 1;
  }

  /**
   * Gives the next seq to `build` and returns its record: queued for the next flush, or in live mode
   * added to the tail (and its file) at once.
   */
  append(tsMs: number, build: (seq: number) => Uint8Array): SpoolRecord {
    if (this.closed) throw new Error('spool: append after close');
    const seq = this.nextSeqValue;
    if (this.live) this.reserve(seq);
    this.nextSeqValue++;
    const encoded = build(seq);
    const record = Buffer.allocUnsafe(HEADER_BYTES + BODY_PREFIX_BYTES + encoded.length);
    record.writeUInt32LE(BODY_PREFIX_BYTES + encoded.length, 0);
    record.writeDoubleLE(seq, HEADER_BYTES);
    record.writeDoubleLE(tsMs, HEADER_BYTES + 8);
    record.set(encoded, HEADER_BYTES + BODY_PREFIX_BYTES);
    // A tail record gets its CRC when it goes to the segments, if ever (most are acked first).
    record.writeUInt32LE(this.live ? 0 : crc32(record.subarray(HEADER_BYTES)), 4);
    // The payload sent live is the record's own bytes: one copy of the encoding, not two.
    const payload = record.subarray(HEADER_BYTES + BODY_PREFIX_BYTES);
    if (!this.live) {
      this.queueOnDisk(seq, tsMs, record);
      return { seq, tsMs, payload };
    }
    this.tail.push(record);
    this.tailBytes += record.length;
    const file = this.tailFile;
    if (file) {
      // Page cache of a RAM filesystem: no block device, no sync, and it outlives a kill -9.
      this.tailWrite(() => {
        for (let written = 0; written < record.length; ) written += writeSync(file.fd, record, written, record.length - written, file.offset + written);
        file.offset += record.length;
      });
    }
    if (this.tail.length > TAIL_MAX_RECORDS || this.tailBytes > TAIL_MAX_BYTES) this.spill();
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
      this.stats.syncs++;
    }
  }

  private closeHandle(): void {
    if (!this.handle) return;
    const { fd } = this.handle;
    this.handle = null;
    closeSync(fd);
  }

  /**
   * The hub has stored every seq below `next`: frees the tail below it and whole segments below it.
   * Returns how many seqs past `next` it counts as acknowledged too: unknown ones after a power cut,
   * which the hub must be told about (its spool report), since it will never get them.
   */
  ack(next: number): number {
    if (next <= this.acked) return 0;
    this.acked = Math.min(next, this.nextSeqValue);
    const drop = Math.min(this.tail.length, Math.max(0, this.acked - this.tailBase));
    if (drop > 0) {
      for (const record of this.tail.splice(0, drop)) this.tailBytes -= record.length;
      if (this.tail.length === 0) this.resetTailFile();
    }
    const skipped = this.skipUnknown();
    if (this.tailFile && this.tail.length > 0) {
      if (this.tailFile.offset > 2 * TAIL_MAX_BYTES) this.compactTailFile();
      else this.writeTailHeader();
    }
    let freed = skipped > 0;
    // Never the newest segment: its name is what tells a restarted agent the next seq.
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      this.removeOldest();
      freed = true;
    }
    if (freed) this.writeMeta();
    return skipped;
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
    const tailBase = this.tailBase;
    const flushedEnd = this.diskEnd - this.pending.length;
    while (out.length < max && seq < this.nextSeqValue) {
      if (seq >= tailBase) {
        const record = this.tail[seq - tailBase]!;
        out.push({ seq, tsMs: record.readDoubleLE(HEADER_BYTES + 8), payload: record.subarray(HEADER_BYTES + BODY_PREFIX_BYTES) });
        seq++;
        continue;
      }
      if (seq >= flushedEnd) {
        // Queued, not yet synced (never read); or past the disk's end: on to the tail.
        if (seq < this.diskEnd) break;
        seq = tailBase;
        continue;
      }
      const index = this.segments.findLastIndex((s) => s.firstSeq <= seq);
      if (index < 0) break;
      const segment = this.segments[index]!;
      const cache = this.load(segment, seq);
      const at = seq - segment.firstSeq;
      if (at >= cache.offsets.length) {
        // Damaged or short segment (bit rot), or a range held nowhere: skip to the next one rather
        // than stall replay forever.
        seq = this.segments[index + 1]?.firstSeq ?? tailBase;
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

  /** Writes the tail and what is pending, persists the counters, closes the file. */
  close(): void {
    if (this.closed) return;
    this.leaveLive();
    this.flush();
    this.closed = true;
    this.closeHandle();
    this.writeMeta();
  }
}

/** Offsets of the valid records of a segment, in order, and where the valid part ends. */
function parseRecords(buf: Buffer, firstSeq: number, checkCrc = true): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES + BODY_PREFIX_BYTES <= buf.length) {
    const length = buf.readUInt32LE(offset);
    if (length < BODY_PREFIX_BYTES || length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > buf.length) break;
    const body = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (checkCrc && crc32(body) !== buf.readUInt32LE(offset + 4)) break;
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

/**
 * Deletes a file that may be gone already. fs.rmSync would do, but on Node 20 it loads its
 * recursive-delete module even for one file: about 0.1 MiB of the agent's resident memory for good.
 */
function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
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
