// `from`/`to` query values: epoch milliseconds, `now`, or relative to now like `-15m`, `-1h`, `-7d`.
import { parseDuration } from '../protocol/index.ts';

/** Returns epoch ms, or null when `raw` is none of the accepted forms. */
export function parseTimeParam(raw: string, nowMs: number): number | null {
  const text = raw.trim();
  if (text === 'now') return nowMs;
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (text.startsWith('-')) {
    const ms = parseDuration(text.slice(1));
    return ms === null ? null : nowMs - ms;
  }
  return null;
}
