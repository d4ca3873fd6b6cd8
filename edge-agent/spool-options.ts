// The agent's spool flags: parsers for sizes and ages, and the per-node default directory.
import { join } from 'node:path';
import * as v from 'valibot';
import { duration } from '../shared/option-schemas.ts';
import { defaultSpoolDir } from './spool.ts';

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "64MB", "512KiB", "1GB" or plain bytes; at least 64 KiB. */
export const spoolSize = v.pipe(
  v.string(),
  v.regex(SIZE, 'must be a size such as 64MB, 512KiB or 1GB'),
  v.transform((text) => {
    const match = SIZE.exec(text.trim())!;
    return Math.floor(Number(match[1]) * UNIT_BYTES[(match[2] ?? 'b').toLowerCase()]!);
  }),
  v.minValue(64 * 1024, 'must be at least 64KiB'),
);

/** "7d", "12h"…: at least one minute. */
export const spoolAge = v.pipe(duration('12h or 7d'), v.minValue(60_000, 'must be at least 1m'));

/** One spool per node name, so two agents on one machine never share a boot id or seq. */
export function spoolDirFor(node: string, configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? join(defaultSpoolDir(env), node);
}
