// Hostile CBOR for the decoders: hand-made payloads that attack a decoder where it is known to be
// weak (depth, declared lengths, types, prototype keys, tags, special floats, integers at the edges,
// indefinite lengths), and seeded mutations of valid samples. Built byte by byte where an encoder
// would refuse to write them; the same seed always gives the same payloads.
import { Encoder } from 'cbor-x';
import { encodeInfo, encodeSample, SAMPLE_FIELDS, SERIES_NAME, type NodeInfo, type Sample } from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { random } from '../../edge-agent/simulated-node.ts';

export interface HostilePayload {
  name: string;
  bytes: Uint8Array;
}

/** The simulator's seeded PRNG (mulberry32), so that a failing fuzz run is reproduced from its seed. */
export const prng = random;

const bytes = (...parts: (number[] | Uint8Array)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const repeat = (pattern: number[], times: number): number[] => Array.from({ length: times }, () => pattern).flat();
// Another encoder than the codec's, for values the codec would never write (floats as float64, bigints).
const raw = new Encoder({ mapsAsObjects: false, useRecords: false });
const cbor = (value: unknown): Uint8Array => raw.encode(value);

/** The four identity entries of a sample, as encoded map entries (keys 0–3). */
const IDENTITY_ENTRIES: ReadonlyArray<[number, unknown]> = [
  [0, 1],
  [1, 'b0a7c3d2e1f40516'],
  [2, 42],
  [3, 1_764_145_200_000],
];
const IDENTITY_BYTES = IDENTITY_ENTRIES.flatMap(([k, v]) => [...cbor(k), ...cbor(v)]);

/** A four-entry identity map with the value of `key` given as raw bytes. */
function identityWith(key: number, valueBytes: number[] | Uint8Array): Uint8Array {
  return bytes([0xa4], ...IDENTITY_ENTRIES.map(([k, v]) => bytes(cbor(k), k === key ? valueBytes : cbor(v))));
}

/** A sample map of the identity plus one more entry given as raw bytes (key, then value). */
function sampleWith(keyBytes: number[] | Uint8Array, valueBytes: number[] | Uint8Array): Uint8Array {
  return bytes([0xa5], IDENTITY_BYTES, keyBytes, valueBytes);
}
/** A sample map whose cpu_pct (key 4) is `valueBytes`. */
const cpuIs = (valueBytes: number[] | Uint8Array) => sampleWith([0x04], valueBytes);

const text = (s: string) => cbor(s);
const uint64 = (hi: number, lo: number) => [
  (hi >>> 24) & 0xff,
  (hi >>> 16) & 0xff,
  (hi >>> 8) & 0xff,
  hi & 0xff,
  (lo >>> 24) & 0xff,
  (lo >>> 16) & 0xff,
  (lo >>> 8) & 0xff,
  lo & 0xff,
];

/** Values of every CBOR kind, used as the wrong type for each field. */
const WRONG_VALUE_BYTES: Array<[string, ArrayLike<number>]> = [
  ['text', text('x')],
  ['long text', text('y'.repeat(300))],
  ['empty text', text('')],
  ['-1', cbor(-1)],
  ['1.5', cbor(1.5)],
  ['-0.0', bytes([0xf9, 0x80, 0x00])],
  ['101', cbor(101)],
  ['2^53', cbor(2 ** 53)],
  ['uint64 max', bytes([0x1b], uint64(0xffffffff, 0xffffffff))],
  ['nint64 min', bytes([0x3b], uint64(0xffffffff, 0xffffffff))],
  ['NaN half', bytes([0xf9, 0x7e, 0x00])],
  ['NaN single', bytes([0xfa, 0x7f, 0xc0, 0x00, 0x00])],
  ['NaN double', bytes([0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])],
  ['+Inf', bytes([0xf9, 0x7c, 0x00])],
  ['-Inf', bytes([0xfa, 0xff, 0x80, 0x00, 0x00])],
  ['null', [0xf6]],
  ['undefined', [0xf7]],
  ['true', [0xf5]],
  ['simple 255', [0xf8, 0xff]],
  ['empty array', [0x80]],
  ['array of maps', bytes([0x82, 0xa0, 0xa0])],
  ['empty map', [0xa0]],
  ['bytes', bytes([0x43, 1, 2, 3])],
  ['bignum tag 2', bytes([0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
  ['negative bignum tag 3', bytes([0xc3, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
  ['date tag 1', bytes([0xc1, 0x1a, 0x65, 0x00, 0x00, 0x00])],
  ['unknown tag', bytes([0xd9, 0x12, 0x34, 0x01])],
];
const WRONG_VALUES: ReadonlyArray<[string, Uint8Array]> = WRONG_VALUE_BYTES.map(([n, b]) => [n, Uint8Array.from(b)]);

function wrongTypes(): HostilePayload[] {
  const out: HostilePayload[] = [];
  for (const field of SAMPLE_FIELDS) {
    for (const [what, value] of WRONG_VALUES) {
      if (field.key <= 3) {
        out.push({ name: `${field.name} = ${what}`, bytes: identityWith(field.key, value) });
      } else {
        out.push({ name: `${field.name} = ${what}`, bytes: sampleWith(cbor(field.key), value) });
        // inside the rows of list fields, too
        if (field.kind.endsWith('[]'))
          out.push({ name: `${field.name}[0] = [${what}, ...]`, bytes: sampleWith(cbor(field.key), bytes([0x81, 0x85], value, value, value, value, value)) });
      }
    }
  }
  return out;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

function prototypeKeys(): HostilePayload[] {
  const out: HostilePayload[] = [];
  const pollution = bytes([0xa1], text('polluted'), text('yes'));
  for (const key of PROTO_KEYS) {
    // as a key of the sample map, beside a valid identity
    out.push({ name: `sample key "${key}"`, bytes: sampleWith(text(key), pollution) });
    // as a key of a map nested where a number is expected
    out.push({ name: `cpu_pct = { "${key}": ... }`, bytes: cpuIs(bytes([0xa1], text(key), pollution)) });
    // as a key of the info map, and inside a disk entry
    out.push({ name: `info key "${key}"`, bytes: bytes([0xa2], text('v'), [0x01], text(key), pollution) });
    out.push({ name: `info disks[0] key "${key}"`, bytes: bytes([0xa2], text('v'), [0x01], text('disks'), [0x81, 0xa1], text(key), pollution) });
    // inside cbor-x records (tag 105 legacy, 0xdfff inline): their keys become object properties
    out.push({ name: `record tag 105 with key "${key}"`, bytes: cpuIs(bytes([0xd8, 0x69, 0x83, 0x00, 0x81], text(key), pollution)) });
    out.push({ name: `inline record 0xdfff with key "${key}"`, bytes: cpuIs(bytes([0xd9, 0xdf, 0xff, 0x83, 0x18, 0x40, 0x81], text(key), pollution)) });
    out.push({ name: `top-level record with key "${key}"`, bytes: bytes([0xd9, 0xdf, 0xff, 0x83, 0x18, 0x40, 0x81], text(key), pollution) });
  }
  // a record definition used many times: cbor-x compiles a reader from its keys after a few reads
  const keys = ['__proto__', 'constructor', "a'];process.exit(1);//", 'x}+process.exit(1)+{'];
  const definition = bytes([0xd9, 0xdf, 0xfe, 0x83, 0x18, 0x40, 0x84], ...keys.map(text));
  out.push({
    name: 'record definition with code-like keys, read 20 times',
    bytes: cpuIs(bytes(definition, [0x94], repeat([0xd9, 0xe0, 0x40, 0x84, 1, 2, 3, 4], 20))),
  });
  return out;
}

function deep(): HostilePayload[] {
  const nested = (open: number[], n: number, close: number[] = []) => bytes(repeat(open, n), [0x80], repeat(close, n));
  return [
    { name: '10,000 nested arrays', bytes: nested([0x81], 10_000) },
    { name: '10,000 nested arrays as cpu_pct', bytes: cpuIs(nested([0x81], 10_000)) },
    { name: '60,000 nested arrays (near the size cap)', bytes: nested([0x81], 60_000) },
    { name: '20,000 nested maps', bytes: bytes(repeat([0xa1, 0x00], 20_000), [0x00]) },
    { name: '30,000 nested tags', bytes: bytes(repeat([0xd9, 0x12, 0x34], 20_000), [0x00]) },
    { name: '30,000 nested indefinite arrays', bytes: nested([0x9f], 30_000, [0xff]) },
    { name: '10,000 nested indefinite arrays, unterminated', bytes: bytes(repeat([0x9f], 10_000)) },
    { name: '20,000 nested shareable tags 28', bytes: bytes(repeat([0xd8, 0x1c], 20_000), [0x80]) },
  ];
}

function hugeLengths(): HostilePayload[] {
  const heads: [string, number][] = [
    ['byte string', 0x40],
    ['text string', 0x60],
    ['array', 0x80],
    ['map', 0xa0],
  ];
  const out: HostilePayload[] = [];
  for (const [what, major] of heads) {
    out.push({ name: `${what} claiming 2^32 bytes`, bytes: bytes([major | 0x1b], uint64(1, 0), [0, 0, 0]) });
    out.push({ name: `${what} claiming 2^32 − 1`, bytes: bytes([major | 0x1a, 0xff, 0xff, 0xff, 0xff], [1, 2]) });
    out.push({ name: `${what} claiming 2^64 − 1`, bytes: bytes([major | 0x1b], uint64(0xffffffff, 0xffffffff)) });
    out.push({ name: `cpu_pct = ${what} claiming 2^32`, bytes: cpuIs(bytes([major | 0x1b], uint64(1, 0))) });
    out.push({ name: `${what} claiming 65,535 items in a few bytes`, bytes: bytes([major | 0x19, 0xff, 0xff], [0, 0, 0, 0]) });
  }
  out.push({ name: 'sample map claiming 2^32 entries', bytes: bytes([0xbb], uint64(1, 0), IDENTITY_BYTES) });
  out.push({ name: 'top_cpu claiming 2^32 rows', bytes: sampleWith([0x17], bytes([0x9b], uint64(1, 0))) });
  out.push({ name: 'indefinite byte string of 2^32 chunk', bytes: bytes([0x5f, 0x5b], uint64(1, 0), [0xff]) });
  out.push({ name: 'array of 30,000 empty arrays (allocation per byte)', bytes: bytes([0x99, 0x75, 0x30], repeat([0x80], 30_000)) });
  out.push({ name: 'array of 60,000 zero-length items', bytes: bytes([0x99, 0xea, 0x60], repeat([0x40], 60_000)) });
  out.push({ name: 'map of 20,000 duplicate keys', bytes: bytes([0xb9, 0x4e, 0x20], repeat([0x04, 0x01], 20_000)) });
  out.push({ name: 'one byte over the payload cap', bytes: bytes([0x5a, 0x00, 0x01, 0x00, 0x00], new Uint8Array(64 * 1024 - 4)) });
  return out;
}

function tags(): HostilePayload[] {
  const tagged = (tagHead: number[], value: Uint8Array | number[]) => ({
    name: `tag ${tagHead.map((b) => b.toString(16)).join(' ')}`,
    bytes: cpuIs(bytes(tagHead, value)),
  });
  return [
    { name: 'tag 27 RegExp (catastrophic pattern)', bytes: cpuIs(bytes([0xd8, 0x1b, 0x83], text('RegExp'), text('(a+)+$'), text('g'))) },
    { name: 'tag 27 Function', bytes: cpuIs(bytes([0xd8, 0x1b, 0x82], text('Function'), text('process.exit(3)'))) },
    { name: 'tag 27 eval', bytes: cpuIs(bytes([0xd8, 0x1b, 0x82], text('eval'), text('process.exit(3)'))) },
    { name: 'tag 27 process', bytes: cpuIs(bytes([0xd8, 0x1b, 0x82], text('process'), text('exit'))) },
    { name: 'tag 27 on the whole sample', bytes: bytes([0xd8, 0x1b, 0x82], text('Map'), text('x')) },
    { name: 'tag 28/29 cycle (an array holding itself)', bytes: cpuIs(bytes([0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00])) },
    { name: 'tag 29 unknown reference', bytes: cpuIs(bytes([0xd8, 0x1d, 0x05])) },
    { name: 'tag 28 on the sample map, referenced inside', bytes: bytes([0xd8, 0x1c, 0xa5], IDENTITY_BYTES, [0x05, 0xd8, 0x1d, 0x00]) },
    { name: 'tag 258 set', bytes: cpuIs(bytes([0xd9, 0x01, 0x02, 0x82, 0x01, 0x02])) },
    { name: 'tag 259 map', bytes: bytes([0xd9, 0x01, 0x03, 0xa4], IDENTITY_BYTES) },
    { name: 'tag 259 on a non-map, truncated', bytes: bytes([0xd9, 0x01, 0x03, 0x9f]) },
    { name: 'tag 0 bad date text', bytes: cpuIs(bytes([0xc0], text('not a date'))) },
    { name: 'tag 2 bignum of 2,000 bytes', bytes: cpuIs(bytes([0xc2, 0x59, 0x07, 0xd0], new Uint8Array(2000).fill(0xff))) },
    { name: 'tag 4 decimal fraction', bytes: cpuIs(bytes([0xc4, 0x82, 0x21, 0x19, 0x6a, 0xb3])) },
    { name: 'tag 5 bigfloat of a huge exponent', bytes: cpuIs(bytes([0xc5, 0x82, 0x1b], uint64(0x7fffffff, 0), [0x01])) },
    { name: 'tag 64 typed array', bytes: cpuIs(bytes([0xd8, 0x40, 0x43, 1, 2, 3])) },
    { name: 'tag 70 uint32 array of misaligned length', bytes: cpuIs(bytes([0xd8, 0x46, 0x45, 1, 2, 3, 4, 5])) },
    { name: 'tag 86 float64 array, 3 bytes', bytes: cpuIs(bytes([0xd8, 0x56, 0x43, 1, 2, 3])) },
    { name: 'tag 51 packed table, malformed', bytes: cpuIs(bytes([0xd8, 0x33, 0x01])) },
    { name: 'tag 51 packed table then reference 6', bytes: bytes([0xd8, 0x33, 0x84, 0x81], text('x'), [0x00, 0x00, 0xc6, 0x00]) },
    { name: 'tag 6 packed reference without table', bytes: cpuIs(bytes([0xc6, 0x05])) },
    { name: 'bundled strings 0xdff9', bytes: bytes([0xd9, 0xdf, 0xf9, 0x83, 0x18, 0x10], text('ab'), text('cd')) },
    { name: 'bundled strings, then tag 14 past the bundle', bytes: bytes([0xd9, 0xdf, 0xf9, 0x83, 0x05, 0xce, 0x19, 0xff, 0xff], text('ab'), text('cd')) },
    { name: 'record definitions 0xdffe of 1,000 structures', bytes: bytes([0xd9, 0xdf, 0xfe, 0x99, 0x03, 0xea, 0x18, 0x40], repeat([0x81, 0x61, 0x61], 1000)) },
    { name: 'self-described CBOR 55799 around the sample', bytes: bytes([0xd9, 0xd9, 0xf7], encodeSample(realisticPi4Sample())) },
    tagged([0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x01]),
    tagged([0xda, 0x00, 0x01, 0x00, 0x00], [0x01]),
    tagged([0xd9, 0xe0, 0x00], [0x80]),
  ];
}

function indefinite(): HostilePayload[] {
  return [
    { name: 'indefinite sample map', bytes: bytes([0xbf], IDENTITY_BYTES, [0xff]) },
    { name: 'indefinite sample map, unterminated', bytes: bytes([0xbf], IDENTITY_BYTES) },
    { name: 'indefinite map with a key and no value', bytes: bytes([0xbf], IDENTITY_BYTES, [0x04, 0xff]) },
    { name: 'indefinite text in chunks as boot', bytes: identityWith(1, [0x7f, 0x62, 0x61, 0x62, 0x61, 0x63, 0xff]) },
    { name: 'indefinite text with a byte-string chunk', bytes: cpuIs([0x7f, 0x41, 0x00, 0xff]) },
    { name: 'indefinite byte string with a text chunk', bytes: cpuIs([0x5f, 0x61, 0x61, 0xff]) },
    { name: 'indefinite byte string, nested indefinite chunk', bytes: cpuIs([0x5f, 0x5f, 0xff, 0xff]) },
    { name: 'indefinite array of 30,000 items', bytes: cpuIs(bytes([0x9f], repeat([0x00], 30_000), [0xff])) },
    { name: 'break with nothing open', bytes: cpuIs([0xff]) },
    { name: 'lone break', bytes: Uint8Array.from([0xff]) },
    { name: 'reserved additional info 28', bytes: cpuIs([0x1c]) },
    { name: 'reserved additional info 30 on a map', bytes: Uint8Array.from([0xbe]) },
    { name: 'indefinite integer (invalid)', bytes: cpuIs([0x1f]) },
    { name: 'indefinite tag (invalid)', bytes: cpuIs([0xdf, 0x00]) },
  ];
}

function edges(): HostilePayload[] {
  return [
    { name: 'empty', bytes: new Uint8Array(0) },
    { name: 'one zero byte', bytes: Uint8Array.from([0x00]) },
    { name: 'valid sample then trailing garbage', bytes: bytes(encodeSample(realisticPi4Sample()), [0x00, 0x01]) },
    { name: 'two valid samples back to back', bytes: bytes(encodeSample(realisticPi4Sample()), encodeSample(realisticPi4Sample())) },
    { name: 'ts_ms as a negative 64-bit integer', bytes: identityWith(3, bytes([0x3b], uint64(0x7fffffff, 0xffffffff))) },
    { name: 'seq = 2^53 + 1 as uint64', bytes: identityWith(2, bytes([0x1b], uint64(0x200000, 1))) },
    { name: 'version 2^64 − 1', bytes: identityWith(0, bytes([0x1b], uint64(0xffffffff, 0xffffffff))) },
    { name: 'version 0', bytes: identityWith(0, [0x00]) },
    { name: 'version 2', bytes: identityWith(0, [0x02]) },
    { name: 'float key 4.0 for cpu_pct', bytes: sampleWith([0xfb, 0x40, 0x10, 0, 0, 0, 0, 0, 0], cbor(50)) },
    { name: 'array as a map key', bytes: sampleWith([0x82, 0x01, 0x02], cbor(50)) },
    { name: 'map as a map key', bytes: sampleWith([0xa1, 0x01, 0x02], cbor(50)) },
    { name: 'invalid UTF-8 in boot', bytes: identityWith(1, [0x62, 0xc3, 0x28]) },
    { name: 'text with a NUL in boot', bytes: identityWith(1, [0x63, 0x61, 0x00, 0x62]) },
    { name: 'boot as 300 characters', bytes: identityWith(1, text('z'.repeat(300))) },
  ];
}

/** Every hand-made hostile payload, each with a name that says what it attacks. */
export function handMadePayloads(): HostilePayload[] {
  return [...deep(), ...hugeLengths(), ...wrongTypes(), ...prototypeKeys(), ...tags(), ...indefinite(), ...edges()];
}

/** Hand-made hostile birth records (the `info` channel, text keys). */
export function hostileInfos(): HostilePayload[] {
  const info = validInfo();
  const infoMap = (extra: [string, Uint8Array][]) => bytes([0xa0 + 1 + extra.length], text('v'), [0x01], ...extra.flatMap(([k, v]) => [text(k), v]));
  const out: HostilePayload[] = [];
  for (const key of ['hostname', 'cpu_cores', 'disks', 'ip_addresses', 'spool_boot', 'spool_first_seq', 'spool_dropped', ...PROTO_KEYS]) {
    for (const [what, value] of WRONG_VALUES) out.push({ name: `info ${key} = ${what}`, bytes: infoMap([[key, value]]) });
  }
  out.push({
    name: 'info with spool_boot and huge spool_first_seq',
    bytes: infoMap([
      ['spool_boot', text('b')],
      ['spool_first_seq', bytes([0x1b], uint64(0xffffffff, 0xffffffff))],
      ['spool_dropped', cbor(0)],
    ]),
  });
  out.push({ name: 'info truncated', bytes: encodeInfo(info).slice(0, 20) });
  return out;
}

export function validInfo(): NodeInfo {
  return {
    v: 1,
    agent_version: '0.1.0',
    hostname: 'good',
    os: 'Linux',
    kernel: '6.6',
    arch: 'arm64',
    cpu_model: 'Cortex-A72',
    cpu_cores: 4,
    mem_total_bytes: 4e9,
    disks: [{ mount: '/', fs_type: 'ext4', size_bytes: 3e10 }],
    boot_time_ms: 1_764_000_000_000,
    interval_ms: 1000,
  };
}

/** A fragment worth splicing in: one that tends to reach a decoder's rarer paths. */
const SPLICES: number[][] = [
  [0x9f],
  [0xbf],
  [0x5f],
  [0x7f],
  [0xff],
  [0xd8, 0x1c],
  [0xd8, 0x1d, 0x00],
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x5b, 0, 0, 0, 1, 0, 0, 0, 0],
  [0xf9, 0x7e, 0x00],
  [0xd9, 0xdf, 0xff],
  [0xd8, 0x1b],
  [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
];

/** Valid samples of several shapes, as the fuzz's seeds. */
export function seedSamples(): Sample[] {
  const full = realisticPi4Sample();
  const minimal: Sample = { v: 1, boot: 'b0a7c3d2e1f40516', seq: 1, ts_ms: 1_764_145_200_000, cpu_pct: 12.5 };
  const noProcs: Sample = { ...full, top_cpu: undefined, top_mem: undefined } as Sample;
  return [full, minimal, noProcs];
}

/** `count` seeded mutations of valid samples: bit flips, truncations, splices, duplicated ranges. */
export function mutatedSamples(seed: number, count: number): HostilePayload[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const seeds = seedSamples().map((s) => encodeSample(s));
  const out: HostilePayload[] = [];
  for (let i = 0; i < count; i++) {
    const base = seeds[int(seeds.length)]!;
    let b: Uint8Array = Uint8Array.from(base);
    const kind = int(5);
    let name: string;
    if (kind === 0) {
      const flips = 1 + int(8);
      for (let f = 0; f < flips; f++) b[int(b.length)]! ^= 1 << int(8);
      name = `${flips} bit flips`;
    } else if (kind === 1) {
      const at = int(b.length);
      b = b.slice(0, at);
      name = `truncated at ${at}`;
    } else if (kind === 2) {
      const at = int(b.length);
      const piece = random() < 0.5 ? SPLICES[int(SPLICES.length)]! : Array.from({ length: 1 + int(16) }, () => int(256));
      b = bytes(b.slice(0, at), piece, b.slice(at + (random() < 0.5 ? piece.length : 0)));
      name = `spliced ${piece.length} bytes at ${at}`;
    } else if (kind === 3) {
      const from = int(b.length);
      const to = Math.min(b.length, from + 1 + int(64));
      const at = int(b.length);
      b = bytes(b.slice(0, at), b.slice(from, to), b.slice(at));
      name = `duplicated [${from}, ${to}) at ${at}`;
    } else {
      const other = seeds[int(seeds.length)]!;
      const cut = int(b.length);
      const otherCut = int(other.length);
      b = bytes(b.slice(0, cut), other.slice(otherCut));
      name = `crossed at ${cut}/${otherCut}`;
    }
    out.push({ name: `mutation #${i}: ${name}`, bytes: b });
  }
  return out;
}

const FIELD_BY_NAME = new Map(SAMPLE_FIELDS.map((f) => [f.name, f]));

/** Why a decoded sample breaks the schema, or null when it meets it. */
export function schemaProblem(sample: Record<string, unknown>): string | null {
  if (Object.getPrototypeOf(sample) !== Object.prototype) return 'not a plain object';
  const isUint = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const isPct = (v: unknown) => isFiniteNumber(v) && (v as number) >= 0 && (v as number) <= 100.01;
  const isText = (v: unknown) => typeof v === 'string' && v.length <= 256;
  const rows = (v: unknown, check: (row: Record<string, unknown>) => boolean) =>
    Array.isArray(v) && v.every((r) => r !== null && typeof r === 'object' && check(r));
  for (const [name, value] of Object.entries(sample)) {
    const field = FIELD_BY_NAME.get(name as keyof Sample);
    if (!field) return `unknown field ${name}`;
    if (value === undefined) continue; // absent: unknown
    const ok = {
      uint: () => isUint(value),
      number: () => isFiniteNumber(value),
      pct: () => isPct(value),
      text: () => isText(value),
      'pct[]': () => Array.isArray(value) && value.every(isPct),
      'fs[]': () => rows(value, (r) => isText(r.mount) && isUint(r.size_bytes) && isUint(r.used_bytes) && isPct(r.used_pct)),
      'net[]': () => rows(value, (r) => isText(r.iface) && isUint(r.rx_bps) && isUint(r.tx_bps)),
      'proc[]': () => rows(value, (r) => isUint(r.pid) && isText(r.name) && isFiniteNumber(r.cpu_pct) && isUint(r.rss_bytes) && isUint(r.threads)),
      'series[]': () =>
        rows(
          value,
          (r) =>
            typeof r.name === 'string' &&
            SERIES_NAME.test(r.name) &&
            isFiniteNumber(r.value) &&
            r.labels !== null &&
            typeof r.labels === 'object' &&
            Object.values(r.labels).every(isText),
        ),
    }[field.kind]();
    if (!ok) return `${name} breaks its kind ${field.kind}`;
  }
  for (const field of SAMPLE_FIELDS) if (field.required && sample[field.name] === undefined) return `required ${field.name} missing`;
  return null;
}
