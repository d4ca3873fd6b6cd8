// The CBOR codec as tables of cases: what round-trips, what is refused and with which words, and
// what is ignored so that the format can grow. Bad payloads are built with cbor-x directly (and by
// hand where cbor-x would not write them), never with encodeSample.
import { decode, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  decodeInfo,
  decodeSample,
  encodeInfo,
  encodeSample,
  MAX_PAYLOAD_BYTES,
  ProtocolError,
  SAMPLE_FIELDS,
  type NodeInfo,
  type Sample,
} from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';

// Another encoder than the codec's: float64 for every non-integer, bigint for uint64.
const raw = new Encoder({ mapsAsObjects: false, useRecords: false });
const cbor = (value: unknown): Uint8Array => raw.encode(value);

/** The identity fields alone, as integer-keyed wire entries. */
const IDENTITY: ReadonlyArray<[number, unknown]> = [
  [0, 1],
  [1, 'b0a7c3d2e1f40516'],
  [2, 42],
  [3, 1_764_145_200_000],
];
const MINIMAL: Sample = { v: 1, boot: 'b0a7c3d2e1f40516', seq: 42, ts_ms: 1_764_145_200_000 };

/** A wire map: the identity, then `extra` entries (added or replacing), minus `without` keys. */
function wire(extra: Array<[unknown, unknown]> = [], without: number[] = []): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>(IDENTITY);
  for (const key of without) map.delete(key);
  for (const [key, value] of extra) map.set(key, value);
  return map;
}

/** The ProtocolError that `fn` throws; fails the test on anything else. */
function refusal(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

describe('encodeSample / decodeSample round trip', () => {
  // A live sample never carries `historical` or `age_ms` (only replays do), nor a Pi without containers `series`, so the fixture leaves them out.
  const full: Sample = {
    ...realisticPi4Sample(),
    historical: 1,
    age_ms: 95_000,
    series: [{ name: 'container_cpu_pct', labels: { container: 'nginx', image: 'nginx:1.27' }, value: 3.5 }],
  };

  it('the full sample carries every field of the key table', () => {
    expect(Object.keys(full).sort()).toEqual(SAMPLE_FIELDS.map((f) => f.name).sort());
  });

  it.each<[string, Sample]>([
    ['full (every field)', full],
    ['minimal (identity only)', MINIMAL],
    ['whole numbers where floats may be (temp 52, load 0, pct 100)', { ...MINIMAL, temp_c: 52, load_1: 0, cpu_pct: 100, mem_pct: 0 }],
    ['negative temperature and values needing float64', { ...MINIMAL, temp_c: -7.5, load_1: 1.23456789, cpu_pct: 33.333333333 }],
    ['empty arrays', { ...MINIMAL, cpu_core_pct: [], filesystems: [], net: [], top_cpu: [], top_mem: [] }],
    ['the largest safe integers', { ...MINIMAL, seq: Number.MAX_SAFE_INTEGER, ts_ms: Number.MAX_SAFE_INTEGER, uptime_s: 2 ** 32 }],
    ['a process busy on 3 cores', { ...MINIMAL, top_cpu: [{ pid: 1, name: 'make', cpu_pct: 298.4, rss_bytes: 0, threads: 3 }] }],
  ])('%s: equal after decode', (_, sample) => {
    expect(decodeSample(encodeSample(sample))).toEqual(sample);
  });

  it('writes integers above 2^32 − 1 as a float64 holding the exact integer (cbor-x does; PROTOCOL.md says so)', () => {
    // {0: 1, 1: "b", 2: 0, 3: 1764145200000}: fb is a float64 (RFC 8949 §3.3).
    const bytes = encodeSample({ v: 1, boot: 'b', seq: 0, ts_ms: 1_764_145_200_000 });
    expect(Buffer.from(bytes).toString('hex')).toBe('a4' + '0001' + '016162' + '0200' + '03' + 'fb4279abf3f7b80000');
  });

  it('sends rounded percentages as float32 and reads them back as the decimal the agent meant', () => {
    const bytes = encodeSample({ ...MINIMAL, cpu_pct: 12.3 });
    expect(Buffer.from(bytes).toString('hex')).toContain('04' + 'fa4144cccd'); // key 4, float32 12.300000190734863
    expect(decodeSample(bytes).cpu_pct).toBe(12.3);
  });

  it('accepts what other encoders write: 8-byte integers, float64 and float16 numbers', () => {
    const bytes = concat(
      hex('a6 00 01 01 6162 02 1b 0000000000000007'), // seq as a needlessly wide uint64
      hex('03 1b 0000019abf3f7b80'), // ts_ms as uint64
      hex('04 fb 4028 9999 9999 999a'), // cpu_pct 12.3 as float64
      hex('14 f9 5280'), // temp_c 52 as float16
    );
    expect(decodeSample(bytes)).toEqual({ v: 1, boot: 'b', seq: 7, ts_ms: 1_764_145_200_000, cpu_pct: 12.3, temp_c: 52 });
  });
});

describe('decodeSample refuses payloads that break the contract', () => {
  const tooBig = new Uint8Array(MAX_PAYLOAD_BYTES + 1);
  const rows = (n: number) => Array.from({ length: n }, () => 50);

  it.each<[string, Uint8Array, string | RegExp, string | undefined]>([
    // [case, payload, message, field]
    ['empty payload', new Uint8Array(0), 'sample: empty payload', undefined],
    ['oversized', tooBig, `sample: payload is ${MAX_PAYLOAD_BYTES + 1} bytes, the limit is ${MAX_PAYLOAD_BYTES}`, undefined],
    ['a break code outside any item', hex('ff 00 13'), /^sample: not valid CBOR \(.+\)$/, undefined],
    ['reserved additional information 28', hex('1c'), /^sample: not valid CBOR \(.+\)$/, undefined],
    ['a truncated map', hex('a4 00 01 01'), /^sample: not valid CBOR \(.*end of CBOR data.*\)$/i, undefined],
    ['trailing bytes after the map', concat(cbor(wire()), hex('00')), /^sample: not valid CBOR \(.*end of buffer not reached.*\)$/, undefined],
    ['JSON text', Uint8Array.from(Buffer.from('{"v":1}')), /^sample: not valid CBOR \(.+\)$/, undefined],
    ['a number, not a map', cbor(1), 'sample: expected a CBOR map, got number 1', undefined],
    ['text, not a map', cbor('online'), 'sample: expected a CBOR map, got text "online"', undefined],
    ['an array, not a map', cbor([1, 'b', 2, 3]), 'sample: expected a CBOR map, got an array of 4', undefined],
    ['null, not a map', hex('f6'), 'sample: expected a CBOR map, got null', undefined],
    ['bytes, not a map', cbor(Buffer.from([1, 2, 3])), 'sample: expected a CBOR map, got 3 bytes', undefined],
    ['missing v', cbor(wire([], [0])), 'sample: required field "v" (key 0) is missing', 'v'],
    ['missing boot', cbor(wire([], [1])), 'sample: required field "boot" (key 1) is missing', 'boot'],
    ['missing seq', cbor(wire([], [2])), 'sample: required field "seq" (key 2) is missing', 'seq'],
    ['missing ts_ms', cbor(wire([], [3])), 'sample: required field "ts_ms" (key 3) is missing', 'ts_ms'],
    ['v = 0', cbor(wire([[0, 0]])), 'sample: field "v" (key 0) must be a positive integer version, got number 0', 'v'],
    ['v = 2, an unknown version', cbor(wire([[0, 2]])), 'sample: unsupported version 2, this side understands up to 1', 'v'],
    ['v as text', cbor(wire([[0, '1']])), 'sample: field "v" (key 0) must be a positive integer version, got text "1"', 'v'],
    ['v fractional', cbor(wire([[0, 1.5]])), 'sample: field "v" (key 0) must be a positive integer version, got number 1.5', 'v'],
    ['cpu_pct as text', cbor(wire([[4, '12.3']])), 'sample: field "cpu_pct" (key 4) must be a finite number, got text "12.3"', 'cpu_pct'],
    ['cpu_pct NaN', cbor(wire([[4, NaN]])), 'sample: field "cpu_pct" (key 4) must be a finite number, got number NaN', 'cpu_pct'],
    ['cpu_pct over 100', cbor(wire([[4, 100.5]])), 'sample: field "cpu_pct" (key 4) must be a percentage between 0 and 100, got number 100.5', 'cpu_pct'],
    ['mem_pct negative', cbor(wire([[12, -1]])), 'sample: field "mem_pct" (key 12) must be a percentage between 0 and 100, got number -1', 'mem_pct'],
    [
      'one core over 100',
      cbor(wire([[5, [20, 150]]])),
      'sample: field "cpu_core_pct" (key 5)[1] must be a percentage between 0 and 100, got number 150',
      'cpu_core_pct',
    ],
    ['seq negative', cbor(wire([[2, -1]])), 'sample: field "seq" (key 2) must be a non-negative integer, got number -1', 'seq'],
    ['seq fractional', cbor(wire([[2, 1.5]])), 'sample: field "seq" (key 2) must be a non-negative integer, got number 1.5', 'seq'],
    [
      'ts_ms above 2^53 − 1',
      cbor(wire([[3, 2n ** 64n - 1n]])),
      'sample: field "ts_ms" (key 3) must be a non-negative integer, got number 18446744073709552000',
      'ts_ms',
    ],
    ['boot as a number', cbor(wire([[1, 7]])), 'sample: field "boot" (key 1) must be a text of at most 256 characters, got number 7', 'boot'],
    [
      'boot too long',
      cbor(wire([[1, 'x'.repeat(257)]])),
      `sample: field "boot" (key 1) must be a text of at most 256 characters, got text "${'x'.repeat(40)}…"`,
      'boot',
    ],
    ['load_1 as a map', cbor(wire([[6, new Map([[1, 2]])]])), 'sample: field "load_1" (key 6) must be a finite number, got a map', 'load_1'],
    [
      'cpu_core_pct not an array',
      cbor(wire([[5, 50]])),
      'sample: field "cpu_core_pct" (key 5) must be an array of at most 4096 items, got number 50',
      'cpu_core_pct',
    ],
    [
      'cpu_core_pct of 4097 items',
      cbor(wire([[5, rows(4097)]])),
      'sample: field "cpu_core_pct" (key 5) must be an array of at most 4096 items, got an array of 4097',
      'cpu_core_pct',
    ],
    [
      'filesystems row too short',
      cbor(wire([[16, [['/', 100, 50]]]])),
      'sample: field "filesystems" (key 16)[0] must be an array of 4 items, got an array of 3',
      'filesystems',
    ],
    [
      'filesystems row not an array',
      cbor(wire([[16, ['/']]])),
      'sample: field "filesystems" (key 16)[0] must be an array of 4 items, got text "/"',
      'filesystems',
    ],
    [
      'filesystems used_pct over 100',
      cbor(
        wire([
          [
            16,
            [
              ['/', 100, 50, 50],
              ['/boot', 100, 50, 101],
            ],
          ],
        ]),
      ),
      'sample: field "filesystems" (key 16)[1].used_pct must be a percentage between 0 and 100, got number 101',
      'filesystems',
    ],
    [
      'net rx_bps fractional',
      cbor(wire([[19, [['eth0', 1.5, 0]]]])),
      'sample: field "net" (key 19)[0].rx_bps must be a non-negative integer, got number 1.5',
      'net',
    ],
    [
      'proc name as a number',
      cbor(wire([[23, [[1432, 42, 1.5, 1000, 1]]]])),
      'sample: field "top_cpu" (key 23)[0].name must be a text of at most 256 characters, got number 42',
      'top_cpu',
    ],
    [
      'proc row too short',
      cbor(wire([[24, [[1432, 'node', 1.5, 1000]]]])),
      'sample: field "top_mem" (key 24)[0] must be an array of 5 items, got an array of 4',
      'top_mem',
    ],
  ])('%s', (_, payload, message, field) => {
    const err = refusal(() => decodeSample(payload));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
    expect(err.field).toBe(field);
    expect(err.name).toBe('ProtocolError');
  });

  it('refuses a newer version before looking at its fields, whatever shape they have', () => {
    const err = refusal(() =>
      decodeSample(
        cbor(
          new Map<number, unknown>([
            [0, 2],
            [2, 'not a seq'],
            [16, 'no rows'],
          ]),
        ),
      ),
    );
    expect([err.message, err.field]).toEqual(['sample: unsupported version 2, this side understands up to 1', 'v']);
  });

  it('takes exactly MAX_PAYLOAD_BYTES, one byte more is refused unread', () => {
    // Pad with an unknown key 99 holding a byte string, sized so that the whole map is exactly the cap.
    const sized = (n: number) => cbor(wire([[99, new Uint8Array(n)]]));
    const padding = MAX_PAYLOAD_BYTES - 1000;
    const exact = sized(padding + MAX_PAYLOAD_BYTES - sized(padding).length);
    expect(exact.length).toBe(MAX_PAYLOAD_BYTES);
    expect(decodeSample(exact)).toEqual(MINIMAL);
    expect(refusal(() => decodeSample(concat(exact, hex('00')))).message).toMatch(/the limit is 65536$/);
  });
});

describe('decodeSample ignores what it does not know, so the format can grow', () => {
  it.each<[string, Array<[unknown, unknown]>]>([
    ['the next integer key', [[SAMPLE_FIELDS.length, 7]]], // keys run 0…n−1 (protocol-doc.test.ts)
    ['a far integer key with a nested value', [[999, [new Map([['a', [1, 2]]]), 'x']]]],
    ['a negative integer key', [[-1, 'x']]],
    ['a text key', [['gpu_pct', 12]]],
    ['a text key spelling a known name with a bad value', [['cpu_pct', 'not a number']]],
    ['a text key "__proto__"', [['__proto__', new Map([['polluted', true]])]]],
  ])('%s', (_, extra) => {
    expect(decodeSample(cbor(wire(extra)))).toEqual(MINIMAL);
  });

  it('lets no "__proto__" key reach Object.prototype or the decoded sample', () => {
    const withProto = cbor(
      wire([
        ['__proto__', new Map([['polluted', true]])],
        ['constructor', 'x'],
      ]),
    );
    const sample = decodeSample(withProto);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(sample)).toBe(Object.prototype);
    expect(Object.keys(sample).filter((k) => sample[k as keyof Sample] !== undefined)).toEqual(['v', 'boot', 'seq', 'ts_ms']);
  });

  it('reads the known positions of a tuple and ignores appended ones', () => {
    const sample = decodeSample(cbor(wire([[19, [['eth0', 10, 20, 'a later position']]]])));
    expect(sample.net).toEqual([{ iface: 'eth0', rx_bps: 10, tx_bps: 20 }]);
  });
});

describe('decodeSample survives hostile CBOR', () => {
  const prefix = hex('a5 00 01 01 6162 02 00 03 00 18 63'); // {0:1, 1:"b", 2:0, 3:0, 99: …}
  // As deep as the size cap allows: one byte per array level, two per map level. cbor-x recurses,
  // so the call stack runs out first; the codec turns that into a refusal.
  const room = MAX_PAYLOAD_BYTES - prefix.length - 1;

  it.each<[string, Uint8Array]>([
    [`arrays nested ${room} deep`, concat(prefix, new Uint8Array(room).fill(0x81), hex('00'))],
    [
      `maps nested ${room >> 1} deep`,
      concat(
        prefix,
        Uint8Array.from({ length: room & ~1 }, (_, i) => (i % 2 ? 0x00 : 0xa1)),
        hex('00'),
      ),
    ],
    ['an array declaring 2^32 − 1 items', concat(prefix, hex('9a ffffffff'))],
    ['an array declaring 2^64 − 1 items', concat(prefix, hex('9b ffffffffffffffff'))],
    ['a map declaring 2^32 − 1 pairs', concat(prefix, hex('ba ffffffff'))],
    ['a text declaring 4 GB', concat(prefix, hex('7a ffffffff'))],
    ['a byte string declaring 2^64 − 1 bytes', concat(prefix, hex('5b ffffffffffffffff'))],
    ['a huge array as a known field', concat(hex('a5 00 01 01 6162 02 00 03 00 05'), hex('9a 7fffffff'))],
  ])('%s: refused as invalid CBOR, and the decoder still works after', (_, payload) => {
    const err = refusal(() => decodeSample(payload));
    expect(err.message).toMatch(/^sample: not valid CBOR \(.+\)$/);
    expect(decodeSample(cbor(wire()))).toEqual(MINIMAL);
  });
});

describe('encodeInfo / decodeInfo', () => {
  const info: NodeInfo = {
    v: 1,
    agent_version: '0.1.0',
    hostname: 'pi-4',
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.6.51+rpt-rpi-v8',
    arch: 'arm64',
    cpu_model: 'Cortex-A72',
    cpu_cores: 4,
    mem_total_bytes: 3_978_489_856,
    disks: [
      { mount: '/', fs_type: 'ext4', size_bytes: 31_064_162_304 },
      { mount: '/boot/firmware', fs_type: 'vfat', size_bytes: 534_749_184 },
    ],
    boot_time_ms: 1_762_935_587_000,
    interval_ms: 5000,
  };
  const infoWire = (extra: Array<[string, unknown]> = []) => new Map<string, unknown>([['v', 1], ['hostname', 'pi-4'], ...extra]);

  it('round-trips', () => {
    expect(decodeInfo(encodeInfo(info))).toEqual(info);
  });

  it('is a map with text keys that a plain decoder reads as is', () => {
    expect(decode(encodeInfo(info))).toEqual(info);
  });

  it('reads a missing text as empty and a missing number as 0, and ignores unknown keys', () => {
    const decoded = decodeInfo(
      cbor(
        infoWire([
          ['gpu', 'VideoCore VI'],
          ['__proto__', 'x'],
        ]),
      ),
    );
    expect(decoded).toMatchObject({ v: 1, hostname: 'pi-4', os: '', cpu_cores: 0, disks: [] });
    expect(Object.keys(decoded)).not.toContain('gpu');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it.each<[string, Uint8Array, string | RegExp, string | undefined]>([
    ['empty payload', new Uint8Array(0), 'info: empty payload', undefined],
    ['oversized', new Uint8Array(MAX_PAYLOAD_BYTES + 1), `info: payload is ${MAX_PAYLOAD_BYTES + 1} bytes, the limit is ${MAX_PAYLOAD_BYTES}`, undefined],
    ['not CBOR', hex('ff'), /^info: not valid CBOR \(.+\)$/, undefined],
    ['not a map', cbor([]), 'info: expected a CBOR map, got an array of 0', undefined],
    ['missing v', cbor(new Map([['hostname', 'pi-4']])), 'info: unsupported version 0', 'v'],
    ['v = 2', cbor(infoWire([['v', 2]])), 'info: unsupported version 2', 'v'],
    ['v as text', cbor(infoWire([['v', '1']])), 'info: "v" must be a number, got text "1"', 'v'],
    ['hostname as a number', cbor(infoWire([['hostname', 5]])), 'info: "hostname" must be text, got number 5', 'hostname'],
    ['cpu_cores as text', cbor(infoWire([['cpu_cores', '4']])), 'info: "cpu_cores" must be a number, got text "4"', 'cpu_cores'],
    ['disks not an array', cbor(infoWire([['disks', 'sda']])), 'info: "disks" must be an array', 'disks'],
    ['a disk not a map', cbor(infoWire([['disks', ['sda']]])), 'info: disks[0] must be a map, got text "sda"', 'disks'],
    [
      'a disk without fs_type',
      cbor(
        infoWire([
          [
            'disks',
            [
              new Map<string, unknown>([
                ['mount', '/'],
                ['size_bytes', 1],
              ]),
            ],
          ],
        ]),
      ),
      'info: disks[0] needs text mount and fs_type and a numeric size_bytes',
      'disks',
    ],
  ])('refuses %s', (_, payload, message, field) => {
    const err = refusal(() => decodeInfo(payload));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
    expect(err.field).toBe(field);
  });
});
