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

/** Points a chart request may ask for, and what it gets when it names none. */
export const MAX_POINTS = 5000;
export const DEFAULT_POINTS = 1000;

/** A chart request's range and resolution, or the first problem with its query, naming the parameter. */
export function parseChartQuery(
  query: (name: string) => string | undefined,
  nowMs: number,
): { fromMs: number; toMs: number; points: number } | { error: string } {
  const fromRaw = query('from') ?? '-1h';
  const toRaw = query('to') ?? 'now';
  const fromMs = parseTimeParam(fromRaw, nowMs);
  const toMs = parseTimeParam(toRaw, nowMs);
  if (fromMs === null) return { error: `from=${JSON.stringify(fromRaw)}: expected epoch ms, "now" or relative like -1h` };
  if (toMs === null) return { error: `to=${JSON.stringify(toRaw)}: expected epoch ms, "now" or relative like -1h` };
  if (fromMs >= toMs) return { error: `from (${fromMs}) must be before to (${toMs})` };
  const pointsRaw = query('points');
  const points = pointsRaw === undefined ? DEFAULT_POINTS : Number(pointsRaw);
  if (!Number.isInteger(points) || points < 2 || points > MAX_POINTS)
    return { error: `points=${JSON.stringify(pointsRaw)}: expected an integer from 2 to ${MAX_POINTS}` };
  return { fromMs, toMs, points };
}
