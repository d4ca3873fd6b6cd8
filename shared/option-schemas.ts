// Schemas for the kinds of value options and config keys share: ports, URLs, durations, counts,
// names. Each turns the text into the value or gives the problem a person reads after the flag's
// name ("--interval: must be between 250ms and 1h"); resolveOptions adds the value that was given.
import * as v from 'valibot';
import { formatDuration, nodeNameProblem, parseDuration } from '../protocol/index.ts';

/** A parser of the domain's own (retention tiers, leak thresholds…) as a schema step: its problem is the issue. */
export function parsedBy<TInput, TOutput>(parse: (input: TInput) => TOutput | { problem: string }) {
  return v.rawTransform<TInput, TOutput>(({ dataset, addIssue, NEVER }) => {
    const parsed = parse(dataset.value);
    if (parsed !== null && typeof parsed === 'object' && 'problem' in parsed) {
      addIssue({ message: parsed.problem });
      return NEVER;
    }
    return parsed;
  });
}

const PORT_PROBLEM = 'must be a port number 0–65535';
export const port = v.pipe(v.string(), v.transform(Number), v.integer(PORT_PROBLEM), v.minValue(0, PORT_PROBLEM), v.maxValue(65535, PORT_PROBLEM));

/** 0, 1, 2…: digits only. */
export const wholeNumber = v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number));

/** An integer from 1 to `max`, the problem starting with `what`. */
export function countUpTo(what: string, max: number) {
  const problem = `${what} must be an integer from 1 to ${max}`;
  return v.pipe(v.string(), v.transform(Number), v.integer(problem), v.minValue(1, problem), v.maxValue(max, problem));
}

/** One of a fixed list of words. */
export const oneOf = <const T extends readonly string[]>(choices: T, problem = `must be one of ${choices.join(', ')}`) => v.picklist(choices, problem);

const schemeOf = (text: string): string | null => {
  try {
    return new URL(text).protocol;
  } catch {
    return null;
  }
};

const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'];
export const brokerUrl = v.pipe(
  v.string(),
  v.check((text) => schemeOf(text) !== null, 'must be a URL such as mqtt://hub.local:1883'),
  v.check((text) => BROKER_SCHEMES.includes(schemeOf(text)!), 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
);

/** An http(s) URL, without its trailing slash (paths are appended to it). */
export const httpUrl = v.pipe(
  v.string(),
  v.check((text) => schemeOf(text) !== null, 'must be a URL such as http://hub-1:8080'),
  v.check((text) => ['http:', 'https:'].includes(schemeOf(text)!), 'must be an http:// or https:// URL'),
  v.transform((text) => text.replace(/\/$/, '')),
);

/** Text such as 500ms, 30s, 12h or 7d, as milliseconds; `examples` completes "must be a duration such as". */
export const duration = (examples: string) =>
  v.pipe(
    v.string(),
    v.check((text) => parseDuration(text) !== null, `must be a duration such as ${examples}`),
    v.transform((text) => parseDuration(text)!),
  );

/** A duration from `min` to `max` ms. */
export function durationBetween(examples: string, min: number, max: number) {
  const problem = `must be between ${formatDuration(min)} and ${formatDuration(max)}`;
  return v.pipe(duration(examples), v.minValue(min, problem), v.maxValue(max, problem));
}

/** A node name (1–64 of A-Za-z0-9._-), the problem saying which character is wrong. */
export const nodeName = v.pipe(
  v.string(),
  v.check(
    (text) => nodeNameProblem(text) === null,
    (issue) => nodeNameProblem(issue.input as string) ?? '',
  ),
);

/** A JSON object of any values; not a list, which valibot's record would take as an object of its indexes. */
export const jsonObject = (problem: string) =>
  v.pipe(
    v.unknown(),
    v.check((value) => value !== null && typeof value === 'object' && !Array.isArray(value), problem),
    v.transform((value) => value as Record<string, unknown>),
  );
