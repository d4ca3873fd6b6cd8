// PROTOCOL.md is written for outside clients by hand; this keeps its key table, the key lists in its
// examples and its figures identical to protocol/, so the document cannot drift from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANNELS, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, SAMPLE_FIELDS, type FieldKind } from '../../protocol/index.ts';

const doc = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');

/** How each kind is spelled in the Type column. */
const TYPE_CELL: Record<FieldKind, string> = {
  uint: 'uint',
  number: 'number',
  pct: 'number 0–100',
  text: 'text',
  'pct[]': 'array of number 0–100',
  'fs[]': 'array of [fs tuple](#tuples)',
  'net[]': 'array of [net tuple](#tuples)',
  'proc[]': 'array of [proc tuple](#tuples)',
  'series[]': 'array of [series tuple](#tuples)',
};

interface KeyRow {
  key: number;
  name: string;
  type: string;
  unit: string;
  meaning: string;
}

/** The rows of the one table whose header is `| Key | Name | Type | Unit | Meaning |`. */
function keyTable(markdown: string): KeyRow[] {
  const lines = markdown.split('\n');
  const headers = lines.flatMap((line, i) => (/^\|\s*Key\s*\|\s*Name\s*\|\s*Type\s*\|\s*Unit\s*\|\s*Meaning\s*\|$/.test(line) ? [i] : []));
  expect(headers, 'PROTOCOL.md must hold exactly one sample key table').toHaveLength(1);
  const rows: KeyRow[] = [];
  for (const line of lines.slice(headers[0]! + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    expect(cells, `row "${line}"`).toHaveLength(5);
    const [key, name, type, unit, meaning] = cells as [string, string, string, string, string];
    expect(key, `row "${line}": key`).toMatch(/^\d+$/);
    expect(name, `row "${line}": name`).toMatch(/^`[a-z0-9_]+`$/);
    rows.push({ key: Number(key), name: name.slice(1, -1), type, unit: unit === '—' ? '' : unit, meaning });
  }
  return rows;
}

/** The space-separated names of `NAMES = (...)` in the first code block of `lang`. */
function exampleNames(lang: string): string[] {
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(doc)?.[1];
  expect(block, `a \`\`\`${lang} example`).toBeDefined();
  const definition = /NAMES = \(([\s\S]*?)\)\.split/.exec(block!)?.[1];
  expect(definition, `NAMES in the ${lang} example`).toBeDefined();
  const literals = [...definition!.matchAll(/(["'])(.*?)\1/g)].map((m) => m[2]);
  return literals.join('').split(' ').filter(Boolean);
}

describe('PROTOCOL.md', () => {
  const rows = keyTable(doc);

  it('has one key-table row per SAMPLE_FIELDS entry, with the same key, name and unit', () => {
    expect(rows.map(({ key, name, unit }) => ({ key, name, unit }))).toEqual(SAMPLE_FIELDS.map(({ key, name, unit }) => ({ key, name, unit })));
  });

  it.each(SAMPLE_FIELDS.map((f) => [f.name, f] as const))('gives %s its type and marks it required only if it is', (_, field) => {
    const row = rows.find((r) => r.key === field.key);
    expect(row?.type).toBe(TYPE_CELL[field.kind]);
    expect(row?.meaning.startsWith('**Required.**')).toBe(field.required === true);
  });

  // The examples map key k to NAMES[k], which holds while keys run 0, 1, 2, … without gaps.
  it.each(['python', 'js'])('lists every field name in key order in the %s example', (lang) => {
    expect(SAMPLE_FIELDS.map((f) => f.key)).toEqual(SAMPLE_FIELDS.map((_, i) => i));
    expect(exampleNames(lang)).toEqual(SAMPLE_FIELDS.map((f) => f.name));
  });

  it('states the size cap, the version and every channel as the code has them', () => {
    expect(doc).toContain(`\`MAX_PAYLOAD_BYTES\`, ${MAX_PAYLOAD_BYTES} bytes`);
    expect(doc).toContain(`# remonitor wire protocol, version ${PROTOCOL_VERSION}`);
    for (const channel of CHANNELS) expect(doc).toContain(`| \`remonitor/<node>/${channel}\` |`);
  });
});
