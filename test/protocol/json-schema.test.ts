// The JSON Schema of a JSON sample in PROTOCOL.md: exactly what scripts/sample-json-schema.ts makes
// from SAMPLE_FIELDS, and in agreement with decodeSampleJson on the decoder's own cases. No JSON
// Schema validator is installed here, so a small one below reads the keywords the schema uses (and
// refuses any other, so a new keyword cannot pass unread), with draft 2020-12's meaning of each.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSampleJson, MAX_JSON_DEPTH, ProtocolError, SAMPLE_FIELDS } from '../../protocol/index.ts';
import { END, START, sampleJsonSchema, withSchema } from '../../scripts/sample-json-schema.ts';
import { asJson, CASES, type JsonCase } from '../helpers/json-sample-cases.ts';

const doc = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');

type Schema = Record<string, unknown>;
const ANNOTATIONS = new Set(['$schema', 'title', 'description', '$defs']);

/** Draft 2020-12 for the keywords used: true when `value` is valid against `schema` (`root` holds `$defs`). */
function valid(schema: Schema, value: unknown, root: Schema): boolean {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const [keyword, arg] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    const ok = ((): boolean => {
      switch (keyword) {
        case '$ref': {
          const name = /^#\/\$defs\/(\w+)$/.exec(arg as string)?.[1];
          const target = name === undefined ? undefined : (root.$defs as Record<string, Schema>)[name];
          if (!target) throw new Error(`unresolved $ref ${String(arg)}`);
          return valid(target, value, root);
        }
        case 'type':
          if (arg === 'integer') return typeof value === 'number' && Number.isInteger(value);
          if (arg === 'number') return typeof value === 'number';
          if (arg === 'string') return typeof value === 'string';
          if (arg === 'array') return Array.isArray(value);
          if (arg === 'object') return isObject(value);
          throw new Error(`type ${String(arg)}`);
        case 'minimum':
          return typeof value !== 'number' || value >= (arg as number);
        case 'maximum':
          return typeof value !== 'number' || value <= (arg as number);
        case 'maxLength':
          return typeof value !== 'string' || [...value].length <= (arg as number); // code points
        case 'pattern':
          return typeof value !== 'string' || new RegExp(arg as string, 'u').test(value);
        case 'minItems':
          return !Array.isArray(value) || value.length >= (arg as number);
        case 'maxItems':
          return !Array.isArray(value) || value.length <= (arg as number);
        case 'prefixItems':
          return !Array.isArray(value) || (arg as Schema[]).every((s, i) => i >= value.length || valid(s, value[i], root));
        case 'items': {
          const from = Array.isArray(schema.prefixItems) ? schema.prefixItems.length : 0;
          return !Array.isArray(value) || value.slice(from).every((v) => valid(arg as Schema, v, root));
        }
        case 'properties':
          return !isObject(value) || Object.entries(arg as Record<string, Schema>).every(([k, s]) => !Object.hasOwn(value, k) || valid(s, value[k], root));
        case 'additionalProperties': {
          const named = isObject(schema.properties) ? schema.properties : {};
          return !isObject(value) || Object.keys(value).every((k) => Object.hasOwn(named, k) || valid(arg as Schema, value[k], root));
        }
        case 'propertyNames':
          return !isObject(value) || Object.keys(value).every((k) => valid(arg as Schema, k, root));
        case 'maxProperties':
          return !isObject(value) || Object.keys(value).length <= (arg as number);
        case 'dependentRequired':
          return (
            !isObject(value) ||
            Object.entries(arg as Record<string, string[]>).every(([k, needs]) => !Object.hasOwn(value, k) || needs.every((n) => Object.hasOwn(value, n)))
          );
        default:
          throw new Error(`the test's validator does not know the keyword ${keyword}`);
      }
    })();
    if (!ok) return false;
  }
  return true;
}

function decoderAccepts(bytes: Uint8Array): boolean {
  try {
    decodeSampleJson(bytes);
    return true;
  } catch (err) {
    if (err instanceof ProtocolError) return false;
    throw err;
  }
}

/** The schema as PROTOCOL.md shows it. */
function documentedSchema(): Schema {
  const section = doc.slice(doc.indexOf(START), doc.indexOf(END));
  const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  expect(block, 'a ```json block between the schema markers').toBeDefined();
  return JSON.parse(block!) as Schema;
}

describe('the JSON Schema of a JSON sample', () => {
  it('in PROTOCOL.md is the one made from the wire table', () => {
    expect(doc, 'PROTOCOL.md is out of date: run `node scripts/run-ts.mjs scripts/sample-json-schema.ts --write`').toBe(withSchema(doc));
    const schema = documentedSchema();
    expect(schema).toEqual(sampleJsonSchema());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties as Schema)).toEqual(SAMPLE_FIELDS.map((f) => f.name));
    // What a schema cannot say, the text does.
    expect(doc).toContain(`nested at most ${MAX_JSON_DEPTH} levels deep`);
  });

  const schema = sampleJsonSchema();
  const extra: [string, JsonCase][] = [
    ['the hand-sent example', { cpu_pct: 12.5, mem_pct: 40 }],
    ['nothing at all', {}],
    ['boot without seq', { boot: 'b' }],
    ['seq without boot', { seq: 1 }],
    ['a percentage a hair over 100', { cpu_pct: 100.01 }],
    ['a tuple with a position more than this version knows', { net: [['eth0', 1, 2, 'later']] }],
    ['a label of 256 characters', { series: [['rssi', { ssid: 'x'.repeat(256) }, 1]] }],
    ['a label of 257 characters', { series: [['rssi', { ssid: 'x'.repeat(257) }, 1]] }],
  ];
  it.each([...CASES, ...extra])('says what the decoder says of: %s', (_, sample) => {
    const bytes = asJson(sample);
    expect(valid(schema, JSON.parse(Buffer.from(bytes).toString('utf8')), schema)).toBe(decoderAccepts(bytes));
  });

  it('refuses and accepts among the cases, so the comparison means something', () => {
    const verdicts = CASES.map(([, c]) => valid(schema, c, schema));
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(30);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThan(150);
  });
});
