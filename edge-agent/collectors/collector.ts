// What the Linux collectors share: their shape, and a cheap reader for /proc and /sys files.
import { closeSync, openSync, readSync, statfsSync } from 'node:fs';
import type { Reading } from '../sampler.ts';

/** One source of sample fields (a /proc file, a /sys class, statfs). */
export interface Collector {
  /** Names the collector in the one log line it gets the first time it fails. */
  readonly name: string;
  /**
   * Reads the machine and writes this collector's fields into `out`, leaving out what it cannot
   * know. Throws (or rejects) when its source is missing or unreadable; the sampler turns that into
   * absent fields and one log line. `nowMs` is a monotonic clock reading, for rates. A collector
   * whose reads are synchronous returns nothing: under --lite-mode the promises of async functions,
   * two per collector and sample, were a measurable share of the agent's CPU.
   */
  collect(out: Reading, nowMs: number): void | Promise<void>;
  /** Releases what the collector keeps open (file descriptors). */
  close?(): void;
}

// One scratch buffer for every read: reads are synchronous, so they never overlap. It grows to the
// largest file seen (/proc/stat's intr line on a big machine) and stays there.
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Reads a whole /proc or /sys file as text.
 *
 * Synchronous on purpose. These files live in kernel memory (no disk behind them) and report size 0,
 * so `fs.promises.readFile` reads each through a fresh 64 KiB buffer and four thread-pool round
 * trips. Measured on the dev VM over 300 × /proc/<pid>/stat: readFile 14 ms CPU, async
 * open/read/close 6–10 ms, this 2.2 ms. The event loop is held for those 2 ms, which is nothing
 * next to a 1 s sampling interval. statfs is synchronous too (collectors/filesystems.ts).
 */
export function readText(path: string): string {
  return readOnce(path, false);
}

function readOnce(path: string, singleRecord: boolean): string {
  const fd = openSync(path, 'r');
  try {
    return readFd(fd, false, singleRecord);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a file to its end. `fromStart`: pread from offset 0, for a descriptor that is read again
 * and again; else read on from the current offset. Both suit seq_file-backed /proc files: a read
 * at the offset the previous one ended continues, a read at 0 makes the kernel generate the text
 * anew. sysfs attributes, too, are generated again by each read at 0.
 * `singleRecord`: the kernel hands the file over in one read (a single_open seq_file such as
 * /proc/<pid>/stat, a sysfs attribute), so a read shorter than the buffer got everything and the
 * read that would return 0 is skipped. A file with many records (/proc/net/dev, /proc/diskstats,
 * mount tables) may come a page at a time.
 */
function readFd(fd: number, fromStart: boolean, singleRecord: boolean): string {
  let length = 0;
  for (;;) {
    const room = scratch.length - length;
    const n = readSync(fd, scratch, length, room, fromStart ? length : null);
    if (n === 0) break;
    length += n;
    if (singleRecord && n < room) break;
    if (length === scratch.length) {
      const bigger = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(bigger, 0, 0, length);
      scratch = bigger;
    }
  }
  return scratch.toString('utf8', 0, length);
}

// statfs(2) f_type of the filesystems whose files the kernel writes anew on each read at offset 0.
const PROC_SUPER_MAGIC = 0x9fa0;
const SYSFS_MAGIC = 0x62656572;

/** Whether `path` is on procfs or sysfs, whose files a read at offset 0 generates anew. */
function isKernelFile(path: string): boolean {
  const { type } = statfsSync(path);
  return type === PROC_SUPER_MAGIC || type === SYSFS_MAGIC;
}

/**
 * A /proc or /sys file read every sample through one descriptor kept open: open and close were
 * about half of what reading these small files cost (40 µs of 100 µs for the seven of a sample).
 * A failed read closes it, so the next read opens the path again (a sensor whose driver reloaded).
 * A file on any other filesystem (a test's fixture tree) may be replaced by a new file under the
 * same name, which a kept descriptor would not see: it is opened for each read, as readText does.
 * `singleRecord`: the file comes whole in one read (see readFd): /proc/stat, /proc/meminfo,
 * /proc/loadavg, /proc/uptime (single_open seq_files) and sysfs attributes (one page at most).
 */
export class KeptOpenFile {
  private fd: number | null = null;
  private kernelFile: boolean | undefined;

  private readonly singleRecord: boolean;

  constructor(
    readonly path: string,
    options: { singleRecord?: boolean } = {},
  ) {
    this.singleRecord = options.singleRecord ?? false;
  }

  read(): string {
    this.kernelFile ??= isKernelFile(this.path); // throws, as an open would, when the path is missing
    if (!this.kernelFile) return readOnce(this.path, this.singleRecord);
    this.fd ??= openSync(this.path, 'r');
    try {
      return readFd(this.fd, true, this.singleRecord);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } finally {
      this.fd = null;
    }
  }
}

/**
 * The single-record files of a set that changes between reads, read in rounds, each kept open from
 * one round to the next: the /proc/<pid>/stat of every process, read for the process list. Open and
 * close were half of what the list cost (64 processes: 680 µs a round opening each, 350 µs kept).
 * - A file not read in a round (its process has exited) is closed when the round ends.
 * - A failed read closes the descriptor and opens the path again. A /proc/<pid> descriptor stays
 *   with the process it was opened for: once that process has exited its reads fail (ESRCH), so a
 *   new process under the same pid is read through a fresh open, never the old descriptor.
 * - At most `maxKept` stay open, since each holds a page of kernel memory (the seq_file buffer);
 *   past that, and for files not on procfs or sysfs (a test's fixture tree), each read opens.
 */
export class KeptOpenFiles {
  private kept = new Map<string, number>();
  private keptNext = new Map<string, number>();
  private kernelFiles: boolean | undefined;

  constructor(
    private readonly root: string,
    private readonly pathOf: (key: string) => string,
    private readonly maxKept = 512,
  ) {}

  /** The file of `key`, read whole; throws when it cannot be opened or read (the process is gone). */
  read(key: string): string {
    this.kernelFiles ??= isKernelFile(this.root);
    if (!this.kernelFiles) return readOnce(this.pathOf(key), true);
    const fd = this.kept.get(key);
    if (fd !== undefined) {
      this.kept.delete(key);
      try {
        const text = readFd(fd, true, true);
        this.keptNext.set(key, fd);
        return text;
      } catch {
        closeSync(fd); // exited; the pid may already be another process's: open it afresh
      }
    }
    const fresh = openSync(this.pathOf(key), 'r');
    try {
      const text = readFd(fresh, true, true);
      if (this.keptNext.size < this.maxKept) this.keptNext.set(key, fresh);
      else closeSync(fresh);
      return text;
    } catch (err) {
      closeSync(fresh);
      throw err;
    }
  }

  /** Closes the files not read since the last round ended: their processes have exited. */
  endRound(): void {
    for (const fd of this.kept.values()) closeSync(fd);
    this.kept.clear();
    [this.kept, this.keptNext] = [this.keptNext, this.kept];
  }

  close(): void {
    for (const fd of [...this.kept.values(), ...this.keptNext.values()]) closeSync(fd);
    this.kept.clear();
    this.keptNext.clear();
  }

  /** How many descriptors are open now, for tests. */
  get openCount(): number {
    return this.kept.size + this.keptNext.size;
  }
}
