// What the Linux collectors share: their shape, and a cheap reader for /proc and /sys files.
import { closeSync, openSync, readSync, statfsSync } from 'node:fs';
import type { Reading } from '../sampler.ts';

/** One source of sample fields (a /proc file, a /sys class, statfs). */
export interface Collector {
  /** Names the collector in the one log line it gets the first time it fails. */
  readonly name: string;
  /**
   * Reads the machine and writes this collector's fields into `out`, leaving out what it cannot
   * know. Rejects when its source is missing or unreadable; the sampler turns that into absent
   * fields and one log line. `nowMs` is a monotonic clock reading, for rates.
   */
  collect(out: Reading, nowMs: number): Promise<void>;
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
 * next to a 1 s sampling interval. Only statfs (a real filesystem) stays asynchronous.
 */
export function readText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    return readFd(fd, false);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a file to its end. `fromStart`: pread from offset 0, for a descriptor that is read again
 * and again; else read on from the current offset. Both suit seq_file-backed /proc files: a read
 * at the offset the previous one ended continues, a read at 0 makes the kernel generate the text
 * anew. sysfs attributes, too, are generated again by each read at 0.
 */
function readFd(fd: number, fromStart: boolean): string {
  let length = 0;
  for (;;) {
    const n = readSync(fd, scratch, length, scratch.length - length, fromStart ? length : null);
    if (n === 0) break;
    length += n;
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

/**
 * A /proc or /sys file read every sample through one descriptor kept open: open and close were
 * about half of what reading these small files cost (40 µs of 100 µs for the seven of a sample).
 * A failed read closes it, so the next read opens the path again (a sensor whose driver reloaded).
 * A file on any other filesystem (a test's fixture tree) may be replaced by a new file under the
 * same name, which a kept descriptor would not see: it is opened for each read, as readText does.
 */
export class KeptOpenFile {
  private fd: number | null = null;
  private kernelFile: boolean | undefined;

  constructor(readonly path: string) {}

  read(): string {
    if (this.kernelFile === undefined) {
      const { type } = statfsSync(this.path); // throws, as an open would, when the path is missing
      this.kernelFile = type === PROC_SUPER_MAGIC || type === SYSFS_MAGIC;
    }
    if (!this.kernelFile) return readText(this.path);
    this.fd ??= openSync(this.path, 'r');
    try {
      return readFd(this.fd, true);
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

/** Parses a non-negative decimal integer from `text[start, end)`; NaN when there is none. */
export function parseUint(text: string, start: number, end: number): number {
  let n = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits++;
    } else if (digits > 0 || c !== 32) {
      break;
    }
  }
  return digits > 0 ? n : NaN;
}

