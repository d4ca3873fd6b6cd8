// `from`/`to` query values: epoch milliseconds, `now`, or relative to now like `-15m`, `-1h`, `-7d`;
// and the chart query made of them, described once as a schema.
import * as v from 'valibot';
import { parseDuration } from '../protocol/index.ts';

/** A `from`/`to` value before the clock is read: an instant, or a time before now ("now" is 0 before). */
export type TimeRef = { at: number } | { ago: number };

/** The accepted forms read, or null when `raw` is none of them. */
export function readTimeRef(raw: string): TimeRef | null {
  const text = raw.trim();
  if (text === 'now') return { ago: 0 };
  if (/^\d{1,16}$/.test(text)) return { at: Number(text) };
  if (text.startsWith('-')) {
    const ms = parseDuration(text.slice(1));
    return ms === null ? null : { ago: ms };
  }
  return null;
}

const resolveTime = (ref: TimeRef, nowMs: number) => ('at' in ref ? ref.at : nowMs - ref.ago);

/** Returns epoch ms, or null when `raw` is none of the accepted forms. */
export function parseTimeParam(raw: string, nowMs: number): number | null {
  const ref = readTimeRef(raw);
  return ref === null ? null : resolveTime(ref, nowMs);
}

/** Points a chart request may ask for, and what it gets when it names none. */
export const MAX_POINTS = 5000;
export const DEFAULT_POINTS = 1000;

/** A `from`/`to` parameter, `fallback` when absent; made epoch ms by `atNow`. */
export const timeParam = (fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((text) => readTimeRef(text) !== null, 'expected epoch ms, "now" or relative like -1h'),
      v.transform((text) => readTimeRef(text)!),
    ),
    fallback,
  );

/** `from` and `to` as epoch ms, relative ones against one reading of `now` for both. */
export const atNow = <TQuery extends { from: TimeRef; to: TimeRef }>(now: () => number) =>
  v.transform<TQuery, Omit<TQuery, 'from' | 'to'> & { from: number; to: number }>((query) => {
    const nowMs = now();
    return { ...query, from: resolveTime(query.from, nowMs), to: resolveTime(query.to, nowMs) };
  });

/** `from` before `to`, or at it when `allowEqual` (an export of one instant); checked once both are valid. */
export const fromBeforeTo = <TQuery extends { from: number; to: number }>(allowEqual = false) =>
  v.check<TQuery, (issue: v.CheckIssue<TQuery>) => string>(
    ({ from, to }) => (allowEqual ? from <= to : from < to),
    ({ input: { from, to } }) => (allowEqual ? `from (${from}) must not be after to (${to})` : `from (${from}) must be before to (${to})`),
  );

const POINTS_PROBLEM = `expected an integer from 2 to ${MAX_POINTS}`;

/** The parameters of a chart request: its range (default the last hour) and resolution. */
export const chartEntries = () => ({
  from: timeParam('-1h'),
  to: timeParam('now'),
  points: v.optional(
    v.pipe(v.string(), v.transform(Number), v.integer(POINTS_PROBLEM), v.minValue(2, POINTS_PROBLEM), v.maxValue(MAX_POINTS, POINTS_PROBLEM)),
    String(DEFAULT_POINTS),
  ),
});

/** A chart request's query, its relative times read against `now`. */
export const chartQuery = (now: () => number) => v.pipe(v.object(chartEntries()), atNow(now), fromBeforeTo());
