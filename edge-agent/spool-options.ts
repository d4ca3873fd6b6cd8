// The agent's spool flags: parsers for sizes and ages, and the per-node default directory.
import { join } from 'node:path';
import { parseDuration } from '../protocol/index.ts';
import { defaultSpoolDir } from './spool.ts';

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "64MB", "512KiB", "1GB" or plain bytes; at least 64 KiB. */
export function spoolSize(raw: string): number | { problem: string } {
  const match = SIZE.exec(raw.trim());
  if (!match) return { problem: 'must be a size such as 64MB, 512KiB or 1GB' };
  const bytes = Math.floor(Number(match[1]) * UNIT_BYTES[(match[2] ?? 'b').toLowerCase()]!);
  return bytes >= 64 * 1024 ? bytes : { problem: 'must be at least 64KiB' };
}

/** "7d", "12h"…: at least one minute. */
export function spoolAge(raw: string): number | { problem: string } {
  const ms = parseDuration(raw);
  if (ms === null) return { problem: 'must be a duration such as 12h or 7d' };
  return ms >= 60_000 ? ms : { problem: 'must be at least 1m' };
}

/** One spool per node name, so two agents on one machine never share a boot id or seq. */
export function spoolDirFor(node: string, configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? join(defaultSpoolDir(env), node);
}
