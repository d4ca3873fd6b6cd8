// What the Linux collectors share: their shape, and a cheap reader for /proc and /sys files.
import { closeSync, openSync, readSync } from 'node:fs';
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
    let length = 0;
    for (;;) {
      // position null: read on from the current offset, as seq_file-backed /proc files expect.
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
    }
    return scratch.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
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

