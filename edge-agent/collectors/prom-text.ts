// The Prometheus text format (exposition format 0.0.4), the part a node's own metrics need:
// `name{label="value",…} value [timestamp]` lines, `#` lines (HELP, TYPE, comments) skipped,
// timestamps ignored (the sample has its own time). Values that are not finite (NaN, ±Inf) are
// legal there but not on our wire, so they are left out without complaint.
import { MAX_SERIES_LABELS, SERIES_NAME, type LabelledValue } from '../../protocol/index.ts';

export interface PromTextResult {
  values: LabelledValue[];
  /** The first bad line, 1-based, with what is wrong; later lines are still read. */
  problem?: { line: number; message: string };
  /** How many lines were bad in all. */
  badLines: number;
}

const MAX_LABEL_VALUE = 256;

/** Parses one line's `{…}` from `i` (just past `{`); returns the labels and the index past `}`. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = start;
  let count = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '}') return { labels: { ...labels }, end: i + 1 };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!nameMatch) throw new Error(`expected a label name at column ${i + 1}`);
    const name = nameMatch[0];
    if (!SERIES_NAME.test(name)) throw new Error(`label name "${name}" is not allowed (starts with __ or is over 64 characters)`);
    if (name in labels) throw new Error(`label "${name}" given twice`);
    i += name.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected ="value" after label "${name}"`);
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`label "${name}": value has no closing quote`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = line[i++];
        value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
      } else value += c;
    }
    if (value.length > MAX_LABEL_VALUE) throw new Error(`label "${name}": value over ${MAX_LABEL_VALUE} characters`);
    labels[name] = value;
    if (++count > MAX_SERIES_LABELS) throw new Error(`more than ${MAX_SERIES_LABELS} labels`);
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } at column ${i + 1}`);
  }
}

/** A sample value as the format writes it: a Go float (`1e3`, `+Inf`, `NaN`). */
function parseValue(word: string): number {
  if (/^[+-]?inf$/i.test(word)) return word.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(word)) return Number.NaN;
  const n = Number(word);
  if (word === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^0x[0-9a-f]+$/i.test(word) || Number.isNaN(n))
    throw new Error(`value "${word.slice(0, 40)}" is not a number`);
  return n;
}

/** Parses a whole text; `extraLabels` are added to every value (a label the line gives wins). */
export function parsePromText(text: string, extraLabels: Record<string, string> = {}): PromTextResult {
  const values: LabelledValue[] = [];
  let problem: PromTextResult['problem'];
  let badLines = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!nameMatch) throw new Error('expected a metric name');
      const name = nameMatch[0];
      if (!SERIES_NAME.test(name))
        throw new Error(`metric name "${name.slice(0, 70)}" is not allowed here (letters, digits and _, at most 64, not starting with __; no colons)`);
      let i = name.length;
      let labels: Record<string, string> = {};
      if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i + 1));
      const rest = line.slice(i).trim().split(/\s+/);
      if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error('expected a value (and at most a timestamp) after the name');
      const value = parseValue(rest[0]!);
      const all = { ...extraLabels, ...labels };
      if (Object.keys(all).length > MAX_SERIES_LABELS) throw new Error(`more than ${MAX_SERIES_LABELS} labels`);
      if (Number.isFinite(value)) values.push({ name, labels: all, value });
    } catch (err) {
      badLines++;
      problem ??= { line: n + 1, message: (err as Error).message };
    }
  }
  return problem ? { values, problem, badLines } : { values, badLines };
}
