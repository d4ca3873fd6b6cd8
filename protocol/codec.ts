// CBOR encoding and validating decoding of every binary payload of the wire contract.
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { tagListProblems, type DiskInfo, type NodeInfo } from './info.ts';
import {
  PROTOCOL_VERSION,
  SAMPLE_FIELDS,
  MAX_SERIES_LABELS,
  SERIES_NAME,
  type FieldSpec,
  type FilesystemUsage,
  type LabelledValue,
  type InterfaceRates,
  type ProcessUsage,
  type Sample,
} from './sample.ts';
import { scanMapEntries, UnscannableCbor } from './cbor-map-scan.ts';

/** Payloads above this are refused before any decoding (a full sample is well under 4 KB). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** A payload that breaks the contract; `field` names the offending field when there is one. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// Maps, not objects, on both sides: integer keys survive, and no decoded key can reach a prototype.
// Non-integers go out as float32 when that keeps their decimal digits (percentages rounded by the agent).
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });
// int64AsNumber: other encoders write ts_ms as an integer with an 8-byte argument (RFC 8949 §3.1);
// without it cbor-x returns a bigint, which every check below would refuse. Above 2^53 − 1 the number
// is not a safe integer and is refused. cbor-x's typings lack the option, hence the variable.
const decoderOptions = { mapsAsObjects: false, useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT, int64AsNumber: true };
const decoder = new Decoder(decoderOptions);

const FIELD_BY_KEY: (FieldSpec | undefined)[] = [];
for (const f of SAMPLE_FIELDS) FIELD_BY_KEY[f.key] = f;

export function encodeSample(sample: Sample): Uint8Array {
  return encodeSampleFields(sample);
}

/** Encodes whichever sample fields are present, identity or not (the hub stores parts this way). */
export function encodeSampleFields(sample: Partial<Sample>): Uint8Array {
  const wire = new Map<number, unknown>();
  for (const field of SAMPLE_FIELDS) {
    const value = sample[field.name];
    if (value !== undefined) wire.set(field.key, toWire(field, value));
  }
  return encoder.encode(wire);
}

function toWire(field: FieldSpec, value: unknown): unknown {
  switch (field.kind) {
    case 'fs[]':
      return (value as FilesystemUsage[]).map((f) => [f.mount, f.size_bytes, f.used_bytes, f.used_pct]);
    case 'net[]':
      return (value as InterfaceRates[]).map((n) => [n.iface, n.rx_bps, n.tx_bps]);
    case 'proc[]':
      return (value as ProcessUsage[]).map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes, p.threads]);
    case 'series[]':
      return (value as LabelledValue[]).map((v) => [v.name, new Map(Object.entries(v.labels)), v.value]);
    default:
      return value;
  }
}

/** Refuses an empty or oversized payload before anything parses it. */
function checkSize(bytes: Uint8Array, what: string): void {
  if (bytes.length === 0) throw new ProtocolError(`${what}: empty payload`);
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new ProtocolError(`${what}: payload is ${bytes.length} bytes, the limit is ${MAX_PAYLOAD_BYTES}`);
  }
}

/** Decodes CBOR bytes, refusing oversized input before touching it. */
function decodeCbor(bytes: Uint8Array, what: string): unknown {
  checkSize(bytes, what);
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError(`${what}: not valid CBOR (${(err as Error).message})`);
  }
}

export function decodeSample(bytes: Uint8Array): Sample {
  const sample = decodeSampleFields(bytes);
  for (const field of SAMPLE_FIELDS) {
    if (field.required && sample[field.name] === undefined) {
      throw new ProtocolError(`sample: required field "${field.name}" (key ${field.key}) is missing`, field.name);
    }
  }
  return sample as Sample;
}

/** Decodes and checks the fields present; the version is checked only when present. */
export function decodeSampleFields(bytes: Uint8Array): Partial<Sample> {
  const wire = decodeCbor(bytes, 'sample');
  if (!(wire instanceof Map)) throw new ProtocolError(`sample: expected a CBOR map, got ${describe(wire)}`);
  checkVersion(wire.get(0));
  const values = checkedValues;
  values.fill(undefined);
  wire.forEach((value, key) => {
    const field = typeof key === 'number' ? FIELD_BY_KEY[key] : undefined;
    if (!field) return; // a newer agent's field: ignored, so the format can grow
    values[field.key] = fromWire(field, value);
  });
  return sampleOf(values);
}

/**
 * The fields of a sample whose keys are in `keys`, decoded and checked as decodeSampleFields does;
 * the other fields are passed over unread. For a sample already stored (checked whole when it
 * arrived) of which a reader needs a few fields: a list of many nodes decodes only what it shows.
 */
export function decodeSampleFieldsOf(bytes: Uint8Array, keys: ReadonlySet<number>): Partial<Sample> {
  checkSize(bytes, 'sample');
  let entries: number[];
  try {
    entries = scanMapEntries(bytes, keys);
  } catch (err) {
    if (!(err instanceof UnscannableCbor)) throw err;
    return pick(decodeSampleFields(bytes), keys); // another encoder's layout: decoded whole, then cut
  }
  // The wanted entries copied into a map of their own: one decoder call, as cheap per byte as a
  // whole sample's, where one call per field cost more than decoding all of it. A one-byte map
  // head holds up to 23 entries.
  const count = entries.length / 2;
  if (count > 23) return pick(decodeSampleFields(bytes), keys);
  let length = 1;
  for (let i = 0; i < entries.length; i += 2) length += entries[i + 1]! - entries[i]!;
  const map = new Uint8Array(length);
  map[0] = 0xa0 | count;
  let at = 1;
  for (let i = 0; i < entries.length; i += 2) {
    map.set(bytes.subarray(entries[i]!, entries[i + 1]!), at);
    at += entries[i + 1]! - entries[i]!;
  }
  return decodeSampleFields(map);
}

function pick(sample: Partial<Sample>, keys: ReadonlySet<number>): Partial<Sample> {
  const values = checkedValues;
  values.fill(undefined);
  for (const key of keys) {
    const field = FIELD_BY_KEY[key];
    if (field) values[key] = sample[field.name];
  }
  return sampleOf(values);
}

/** A sample's `v`, when present: a version this side understands. */
function checkVersion(version: unknown): void {
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1)) {
    throw new ProtocolError(`sample: field "v" (key 0) must be a positive integer version, got ${describe(version)}`, 'v');
  }
  if (typeof version === 'number' && version > PROTOCOL_VERSION) {
    throw new ProtocolError(`sample: unsupported version ${version}, this side understands up to ${PROTOCOL_VERSION}`, 'v');
  }
}

const FIELD_BY_NAME = new Map(SAMPLE_FIELDS.map((f) => [f.name as string, f]));
const BOOT_FIELD = FIELD_BY_NAME.get('boot')!;
const SEQ_FIELD = FIELD_BY_NAME.get('seq')!;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A sample sent as JSON (`remonitor/<node>/json`, PROTOCOL.md "JSON samples"): an object keyed by
 * the field names of SAMPLE_FIELDS, tuples as arrays, series labels as objects. Each field is
 * checked by the CBOR path's own checks, with the same messages; unknown names are ignored as
 * unknown keys are. Every field may be absent, identity too (the hub then assigns one), but `boot`
 * and `seq` come together or not at all.
 */
export function decodeSampleJson(bytes: Uint8Array): Partial<Sample> {
  checkSize(bytes, 'sample');
  if (nestedTooDeep(bytes)) throw new ProtocolError(`sample: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new ProtocolError(`sample: not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtocolError(`sample: expected a JSON object, got ${describe(json)}`);
  // JSON.parse makes `__proto__` an own key like any other: it is no field name, so it is skipped,
  // and only own keys are read.
  const object = json as Record<string, unknown>;
  checkVersion(Object.hasOwn(object, 'v') ? object.v : undefined);
  const values = checkedValues;
  values.fill(undefined);
  for (const name of Object.keys(object)) {
    const field = FIELD_BY_NAME.get(name);
    if (!field) continue; // a newer client's field, as in CBOR
    const value = object[name];
    values[field.key] = fromWire(field, field.kind === 'series[]' ? labelsAsMaps(value) : value);
  }
  const sample = sampleOf(values);
  if ((sample.boot === undefined) !== (sample.seq === undefined)) {
    const missing = sample.boot === undefined ? BOOT_FIELD : SEQ_FIELD;
    throw new ProtocolError(`sample: field "${missing.name}" (key ${missing.key}) is missing: "boot" and "seq" come together or not at all`, missing.name);
  }
  return sample;
}

/** Levels of arrays and objects a JSON sample may nest: it needs 4 (a series row's labels), newer fields may need more. */
export const MAX_JSON_DEPTH = 16;

/**
 * True when brackets outside strings nest deeper than MAX_JSON_DEPTH. Checked before JSON.parse,
 * which takes 4 times as long over 64 KB of nesting as over 64 KB of numbers (9 ms against 2.4).
 */
function nestedTooDeep(bytes: Uint8Array): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // a backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** Series rows with their label object turned into the Map that CBOR decodes to; anything else is left for the checks to refuse. */
function labelsAsMaps(value: unknown): unknown {
  if (!Array.isArray(value) || value.length > MAX_ARRAY) return value;
  return value.map((row: unknown) => {
    if (!Array.isArray(row)) return row;
    const labels: unknown = row[1];
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return row;
    return [row[0], new Map(Object.entries(labels)), ...row.slice(2)];
  });
}

// Each sample's checked values by key, then one object literal: every decoded sample has the same
// shape (absent fields are undefined), so it is allocated once at its full size and every reader
// of it sees one hidden class. Adding the fields one by one to `{}` cost twice the time of the CBOR
// decoding itself. The literal is generated once from the field table (names are identifiers of
// SAMPLE_FIELDS, never wire input), so a new field needs no edit here. The array is reused:
// decoding is synchronous.
const checkedValues: unknown[] = new Array(FIELD_BY_KEY.length).fill(undefined);
const sampleOf = new Function('x', `return { ${SAMPLE_FIELDS.map((f) => `${f.name}: x[${f.key}]`).join(', ')} };`) as (x: unknown[]) => Partial<Sample>;

// The checks below say where a bad value sat (field, element, member), but spell it out only when
// it is bad: built for every value of every sample, the location strings cost more than the checks.
function fromWire(field: FieldSpec, value: unknown): unknown {
  switch (field.kind) {
    case 'uint':
      return uint(value, field);
    case 'number':
      return finite(value, field);
    case 'pct':
      return pct(value, field);
    case 'text':
      return text(value, field);
    case 'pct[]':
      return array(value, field).map((v, i) => pct(v, field, i));
    case 'fs[]':
      return array(value, field).map((row, i) => {
        const [mount, size, used, usedPct] = tuple(row, 4, field, i);
        return {
          mount: text(mount, field, i, 'mount'),
          size_bytes: uint(size, field, i, 'size_bytes'),
          used_bytes: uint(used, field, i, 'used_bytes'),
          used_pct: pct(usedPct, field, i, 'used_pct'),
        } satisfies FilesystemUsage;
      });
    case 'net[]':
      return array(value, field).map((row, i) => {
        const [iface, rx, tx] = tuple(row, 3, field, i);
        return {
          iface: text(iface, field, i, 'iface'),
          rx_bps: uint(rx, field, i, 'rx_bps'),
          tx_bps: uint(tx, field, i, 'tx_bps'),
        } satisfies InterfaceRates;
      });
    case 'proc[]':
      return array(value, field).map((row, i) => {
        const [pid, name, cpu, rss, threads] = tuple(row, 5, field, i);
        return {
          pid: uint(pid, field, i, 'pid'),
          name: text(name, field, i, 'name'),
          cpu_pct: finite(cpu, field, i, 'cpu_pct'),
          rss_bytes: uint(rss, field, i, 'rss_bytes'),
          threads: uint(threads, field, i, 'threads'),
        } satisfies ProcessUsage;
      });
    case 'series[]':
      return array(value, field).map((row, i) => {
        const [name, labels, v] = tuple(row, 3, field, i);
        return { name: seriesName(name, field, i, 'name'), labels: labelMap(labels, field, i), value: finite(v, field, i, 'value') } satisfies LabelledValue;
      });
  }
}

function seriesName(value: unknown, field: FieldSpec, index: number, member: string): string {
  if (typeof value !== 'string' || !SERIES_NAME.test(value))
    fail('a name of letters, digits and _ (not starting with a digit or __, at most 64)', value, field, index, member);
  return value;
}

/** A label map, as an object with no prototype of its own to reach: names are checked, never `__proto__`. */
function labelMap(value: unknown, field: FieldSpec, index: number): Record<string, string> {
  if (!(value instanceof Map)) fail('a map of label names to text', value, field, index, 'labels');
  if (value.size > MAX_SERIES_LABELS) fail(`at most ${MAX_SERIES_LABELS} labels`, value, field, index, 'labels');
  const labels: Record<string, string> = {};
  for (const [k, v] of value) {
    const name = seriesName(k, field, index, 'labels');
    labels[name] = text(v, field, index, `labels.${name}`);
  }
  return labels;
}

/** Items an array field may hold. */
export const MAX_ARRAY = 4096;
/** Characters a text may hold. */
export const MAX_TEXT = 256;
/** The largest percentage taken: one rounded by the agent may pass 100 by a hair. */
export const MAX_PCT = 100.01;

/** Refuses a value at `field`, element `index` (-1: the field itself), `member` of that element (when given). */
function fail(expected: string, value: unknown, field: FieldSpec, index: number, member?: string): never {
  const at = `field "${field.name}" (key ${field.key})${index >= 0 ? `[${index}]` : ''}${member ? `.${member}` : ''}`;
  throw new ProtocolError(`sample: ${at} must be ${expected}, got ${describe(value)}`, field.name);
}
function finite(value: unknown, field: FieldSpec, index = -1, member?: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('a finite number', value, field, index, member);
  return value;
}
function uint(value: unknown, field: FieldSpec, index = -1, member?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail('a non-negative integer', value, field, index, member);
  return value;
}
function pct(value: unknown, field: FieldSpec, index = -1, member?: string): number {
  const n = finite(value, field, index, member);
  if (n < 0 || n > MAX_PCT) fail('a percentage between 0 and 100', value, field, index, member);
  return n;
}
function text(value: unknown, field: FieldSpec, index = -1, member?: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT) fail(`a text of at most ${MAX_TEXT} characters`, value, field, index, member);
  return value;
}
function array(value: unknown, field: FieldSpec): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_ARRAY) fail(`an array of at most ${MAX_ARRAY} items`, value, field, -1);
  return value;
}
function tuple(value: unknown, length: number, field: FieldSpec, index: number): unknown[] {
  if (!Array.isArray(value) || value.length < length) fail(`an array of ${length} items`, value, field, index);
  return value;
}

/** A short, safe description of a bad value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Map || (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) return 'a map'; // a JSON object is CBOR's map
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'string') return `text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

export function encodeInfo(info: NodeInfo): Uint8Array {
  return encoder.encode(new Map<string, unknown>(Object.entries({ ...info, disks: info.disks.map((d) => new Map(Object.entries(d))) })));
}

export function decodeInfo(bytes: Uint8Array): NodeInfo {
  const wire = decodeCbor(bytes, 'info');
  if (!(wire instanceof Map)) throw new ProtocolError(`info: expected a CBOR map, got ${describe(wire)}`);
  const str = (key: string): string => {
    const v = wire.get(key);
    if (v === undefined) return '';
    if (typeof v !== 'string' || v.length > MAX_TEXT) throw new ProtocolError(`info: "${key}" must be text, got ${describe(v)}`, key);
    return v;
  };
  const num = (key: string): number => {
    const v = wire.get(key);
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`info: "${key}" must be a number, got ${describe(v)}`, key);
    return v;
  };
  const v = num('v');
  if (v < 1 || v > PROTOCOL_VERSION) throw new ProtocolError(`info: unsupported version ${v}`, 'v');
  const rawDisks = wire.get('disks') ?? [];
  if (!Array.isArray(rawDisks) || rawDisks.length > MAX_ARRAY) throw new ProtocolError('info: "disks" must be an array', 'disks');
  const disks: DiskInfo[] = rawDisks.map((d: unknown, i: number) => {
    if (!(d instanceof Map)) throw new ProtocolError(`info: disks[${i}] must be a map, got ${describe(d)}`, 'disks');
    const mount = d.get('mount');
    const fsType = d.get('fs_type');
    const size = d.get('size_bytes');
    if (typeof mount !== 'string' || typeof fsType !== 'string' || typeof size !== 'number') {
      throw new ProtocolError(`info: disks[${i}] needs text mount and fs_type and a numeric size_bytes`, 'disks');
    }
    return { mount, fs_type: fsType, size_bytes: size };
  });
  return {
    v,
    agent_version: str('agent_version'),
    hostname: str('hostname'),
    os: str('os'),
    kernel: str('kernel'),
    arch: str('arch'),
    cpu_model: str('cpu_model'),
    cpu_cores: num('cpu_cores'),
    mem_total_bytes: num('mem_total_bytes'),
    disks,
    boot_time_ms: num('boot_time_ms'),
    interval_ms: num('interval_ms'),
    ...ipAddresses(wire.get('ip_addresses')),
    ...infoTags(wire.get('tags')),
  };
}

/** `tags` of the birth record: refused, naming the bad tag, unless every one is a TAG_PATTERN word. */
function infoTags(value: unknown): { tags?: string[] } {
  if (value === undefined) return {};
  const problems = tagListProblems(value);
  if (problems.length > 0) throw new ProtocolError(`info: "tags": ${problems.join('; ')}`, 'tags');
  return { tags: value as string[] };
}

/** `ip_addresses` of the birth record: kept only when it is an array of short texts. */
function ipAddresses(value: unknown): { ip_addresses?: string[] } {
  if (!Array.isArray(value) || value.length > 64 || !value.every((a) => typeof a === 'string' && a.length <= 64)) return {};
  return { ip_addresses: value as string[] };
}
