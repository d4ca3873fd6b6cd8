// `from`/`to` query values: epoch milliseconds, `now`, or relative to now like `-15m`, `-1h`, `-7d`;
// and the chart query made of them, described once as a schema.
import * as v from 'valibot';
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

/** A `from`/`to` parameter as epoch ms, relative ones against `nowMs` (one instant for the whole request). */
export const timeParam = (nowMs: number, fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((text) => parseTimeParam(text, nowMs) !== null, 'expected epoch ms, "now" or relative like -1h'),
      v.transform((text) => parseTimeParam(text, nowMs)!),
    ),
    fallback,
  );

/** `from` before `to`, or at it when `allowEqual` (an export of one instant); checked once both are valid. */
export const fromBeforeTo = <TQuery extends { from: number; to: number }>(allowEqual = false) =>
  v.check<TQuery, (issue: v.CheckIssue<TQuery>) => string>(
    ({ from, to }) => (allowEqual ? from <= to : from < to),
    ({ input: { from, to } }) => (allowEqual ? `from (${from}) must not be after to (${to})` : `from (${from}) must be before to (${to})`),
  );

const POINTS_PROBLEM = `expected an integer from 2 to ${MAX_POINTS}`;

/** The parameters of a chart request: its range (default the last hour) and resolution. */
export const chartEntries = (nowMs: number) => ({
  from: timeParam(nowMs, '-1h'),
  to: timeParam(nowMs, 'now'),
  points: v.optional(
    v.pipe(v.string(), v.transform(Number), v.integer(POINTS_PROBLEM), v.minValue(2, POINTS_PROBLEM), v.maxValue(MAX_POINTS, POINTS_PROBLEM)),
    String(DEFAULT_POINTS),
  ),
});

/** A chart request's query. */
export const chartQuery = (nowMs: number) => v.pipe(v.object(chartEntries(nowMs)), fromBeforeTo());
