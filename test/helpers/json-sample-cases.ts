// Sample cases written once by field name, for both decoders (test/protocol/json-sample.test.ts) and
// for the JSON Schema (test/protocol/json-schema.test.ts): wrong and right values of every kind.
import { Encoder } from 'cbor-x';
import { SAMPLE_FIELDS, type FieldKind } from '../../protocol/index.ts';

// Another encoder than the codec's, as in codec.test.ts: the CBOR side of each case is written as is.
const raw = new Encoder({ mapsAsObjects: false, useRecords: false });
const KEY = new Map(SAMPLE_FIELDS.map((f) => [f.name as string, f.key]));

/** A case as JSON: field names, tuples as arrays, labels as objects. */
export type JsonCase = Record<string, unknown>;

/** The same case as CBOR: integer keys, label objects as maps; names outside the table keep their text key. */
export function asCbor(sample: JsonCase): Uint8Array {
  const map = new Map<unknown, unknown>();
  for (const [name, value] of Object.entries(sample)) {
    const labelled =
      name === 'series' && Array.isArray(value)
        ? value.map((row: unknown) =>
            Array.isArray(row) && typeof row[1] === 'object' && row[1] !== null && !Array.isArray(row[1])
              ? [row[0], new Map(Object.entries(row[1])), ...row.slice(2)]
              : row,
          )
        : value;
    map.set(KEY.get(name) ?? name, labelled);
  }
  return raw.encode(map);
}
export const asJson = (sample: JsonCase): Uint8Array => Buffer.from(JSON.stringify(sample));

/** Wrong values for each kind of field, and one that is right. */
export const WRONG: Record<FieldKind, unknown[]> = {
  uint: [-1, 1.5, '7', true, null, 2 ** 53, [], {}],
  number: ['1.5', null, false, [1], {}],
  pct: [100.5, -0.5, '50', null, [50]],
  text: [7, null, 'x'.repeat(257), ['a'], {}],
  'pct[]': [50, 'x', [20, 150], [null], Array(4097).fill(1), {}],
  'fs[]': [{}, ['/'], [['/', 100, 50]], [['/', 100, 50, 101]], [[7, 100, 50, 5]], [['/', -1, 50, 5]], [['/', 100, '50', 5]]],
  'net[]': [[['eth0', 1.5, 0]], [['eth0', 0]], [[null, 0, 0]], [['eth0', 0, -3]], 'eth0'],
  'proc[]': [
    [[1432, 42, 1.5, 1000, 1]],
    [[1432, 'node', 1.5, 1000]],
    [[-1, 'node', 1.5, 1000, 1]],
    [[1, 'node', 'hot', 1000, 1]],
    [[1, 'node', 1.5, 1000, 0.5]],
  ],
  'series[]': [
    [['wifi_rssi_dbm', {}, 'x']],
    [['wifi rssi', {}, -60]],
    [['__reserved', {}, -60]],
    [['rssi', { __proto__x: 'a' }, 1]],
    [['rssi', { 'bad label': 'a' }, 1]],
    [['rssi', { ssid: 7 }, 1]],
    [['rssi', ['ssid', 'home'], 1]],
    [['rssi', 'ssid=home', 1]],
    [['rssi', { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6', g: '7', h: '8', i: '9' }, 1]],
    [['rssi', {}]],
    [['rssi', null, 1]],
  ],
};
export const RIGHT: Record<FieldKind, unknown> = {
  uint: 12345,
  number: -7.25,
  pct: 42.5,
  text: 'b0a7c3d2',
  'pct[]': [10, 20.5],
  'fs[]': [['/', 31_064_162_304, 9_876_543_488, 31.8]],
  'net[]': [['wlan0', 1200, 300]],
  'proc[]': [[1432, 'node', 101.5, 52_000_000, 11]],
  'series[]': [
    ['wifi_rssi_dbm', { ssid: 'home' }, -61],
    ['heap_free_bytes', {}, 81_234],
  ],
};

// `v` has its own checks (the version), so its cases are its own.
const FIELDS = SAMPLE_FIELDS.filter((f) => f.name !== 'v');
/** `boot` and `seq` come together in JSON: each case of one carries a right value of the other. */
const PARTNER: Record<string, JsonCase> = { boot: { seq: 1 }, seq: { boot: 'b0a7' } };
const one = (name: string, value: unknown): JsonCase => ({ ...PARTNER[name], [name]: value });
export const CASES: [string, JsonCase][] = [
  ...FIELDS.flatMap((f) => WRONG[f.kind].map((value, i): [string, JsonCase] => [`${f.name}: wrong value ${i + 1}`, one(f.name, value)])),
  ...FIELDS.map((f): [string, JsonCase] => [`${f.name}: a right value`, one(f.name, RIGHT[f.kind])]),
  ['v = 1', { v: 1 }],
  ['v = 0', { v: 0 }],
  ['v = 2', { v: 2, seq: 'ignored, the version is refused first' }],
  ['v as text', { v: '1' }],
  ['unknown names are ignored', { cpu_pct: 12.5, wifi_channel: 6, 'nested thing': { a: [1, 2] } }],
  ['a second bad field after a good one', { mem_pct: 40, cpu_pct: 'high' }],
];
