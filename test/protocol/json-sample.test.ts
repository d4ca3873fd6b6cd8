// JSON samples (`remonitor/<node>/json`) against the CBOR codec: the same cases, written once by
// field name, go through both decoders, which must agree on what they accept and on every word of
// what they refuse. Then what only JSON has: parse errors, non-objects, `__proto__`, and identity
// left to the hub.
import { describe, expect, it } from 'vitest';
import { decodeSampleFields, decodeSampleJson, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, ProtocolError, SAMPLE_FIELDS, type Sample } from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { asCbor, asJson, CASES, type JsonCase } from '../helpers/json-sample-cases.ts';

/** What a decoder made of the bytes: the sample's present fields, or the refusal's message and field. */
function outcome(decode: () => Partial<Sample>): { fields: Partial<Sample> } | { message: string; field: string | undefined } {
  try {
    const sample = decode();
    return { fields: Object.fromEntries(Object.entries(sample).filter(([, v]) => v !== undefined)) };
  } catch (err) {
    if (err instanceof ProtocolError) return { message: err.message, field: err.field };
    throw err;
  }
}

function refusal(decode: () => unknown): ProtocolError {
  try {
    decode();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

describe('JSON and CBOR decode the same cases the same way', () => {
  it('covers every field of the table, each kind with wrong and right values', () => {
    const named = new Set(CASES.flatMap(([, c]) => Object.keys(c)));
    for (const f of SAMPLE_FIELDS) expect(named.has(f.name), f.name).toBe(true);
  });

  it.each(CASES)('%s', (_, sample) => {
    const cbor = outcome(() => decodeSampleFields(asCbor(sample)));
    const json = outcome(() => decodeSampleJson(asJson(sample)));
    expect(json).toEqual(cbor);
    if ('message' in json) expect(json.message).toMatch(/^sample: /);
  });

  it('a full sample: every field of the table, the same decoded object', () => {
    const full = realisticPi4Sample();
    const series = [{ name: 'container_cpu_pct', labels: { container: 'nginx', image: 'nginx:1.27' }, value: 3.5 }];
    const json: JsonCase = {
      ...full,
      historical: 1,
      age_ms: 95_000,
      filesystems: full.filesystems!.map((f) => [f.mount, f.size_bytes, f.used_bytes, f.used_pct]),
      net: full.net!.map((n) => [n.iface, n.rx_bps, n.tx_bps]),
      top_cpu: full.top_cpu!.map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes, p.threads]),
      top_mem: full.top_mem!.map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes, p.threads]),
      series: series.map((s) => [s.name, s.labels, s.value]),
    };
    expect(Object.keys(json).sort()).toEqual(SAMPLE_FIELDS.map((f) => f.name).sort());
    expect(decodeSampleJson(asJson(json))).toEqual(decodeSampleFields(asCbor(json)));
    expect(decodeSampleJson(asJson(json))).toEqual({ ...full, historical: 1, age_ms: 95_000, series });
  });
});

describe('what only JSON has', () => {
  const text = (s: string) => Buffer.from(s);

  it.each<[string, Uint8Array, string | RegExp, string | undefined]>([
    ['empty payload', new Uint8Array(0), 'sample: empty payload', undefined],
    // Size first: these bytes are not JSON either, and the message says the size.
    ['oversized', text('x'.repeat(MAX_PAYLOAD_BYTES + 1)), `sample: payload is ${MAX_PAYLOAD_BYTES + 1} bytes, the limit is ${MAX_PAYLOAD_BYTES}`, undefined],
    ['not JSON', text('cpu_pct=12'), /^sample: not valid JSON \(.+\)$/, undefined],
    ['truncated', text('{"cpu_pct": 12'), /^sample: not valid JSON \(.+\)$/, undefined],
    ['two objects', text('{"cpu_pct":1}{"cpu_pct":2}'), /^sample: not valid JSON \(.+\)$/, undefined],
    ['NaN is no JSON', text('{"cpu_pct": NaN}'), /^sample: not valid JSON \(.+\)$/, undefined],
    ['not UTF-8', Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /^sample: not valid JSON \(.+\)$/, undefined],
    ['CBOR', asCbor({ v: 1, boot: 'b', seq: 1, ts_ms: 1 }), /^sample: not valid JSON \(.+\)$/, undefined],
    ['an array', text('[1, "b", 2, 3]'), 'sample: expected a JSON object, got an array of 4', undefined],
    ['a number', text('12.5'), 'sample: expected a JSON object, got number 12.5', undefined],
    ['text', text('"online"'), 'sample: expected a JSON object, got text "online"', undefined],
    ['null', text('null'), 'sample: expected a JSON object, got null', undefined],
    ['a number beyond float64', text('{"cpu_pct": 1e999}'), 'sample: field "cpu_pct" (key 4) must be a finite number, got number Infinity', 'cpu_pct'],
    ['boot without seq', text('{"boot": "b0a7"}'), 'sample: field "seq" (key 2) is missing: "boot" and "seq" come together or not at all', 'seq'],
    ['seq without boot', text('{"seq": 3, "cpu_pct": 1}'), 'sample: field "boot" (key 1) is missing: "boot" and "seq" come together or not at all', 'boot'],
    [
      'a label named __proto__',
      text('{"series": [["rssi", {"__proto__": "x"}, -60]]}'),
      'sample: field "series" (key 29)[0].labels must be a name of letters, digits and _ (not starting with a digit or __, at most 64), got text "__proto__"',
      'series',
    ],
    [
      'a label object named __proto__',
      text('{"series": [["rssi", {"__proto__": {"ssid": "home"}}, -60]]}'),
      /^sample: field "series" \(key 29\)\[0\]\.labels must be a name .*, got text "__proto__"$/,
      'series',
    ],
  ])('refuses %s', (_, bytes, message, field) => {
    const err = refusal(() => decodeSampleJson(bytes));
    expect(err.message).toMatch(typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : message);
    expect(err.field).toBe(field);
  });

  it('takes exactly MAX_PAYLOAD_BYTES', () => {
    const padded = (n: number) => {
      const head = '{"cpu_pct": 12.5, "pad": "';
      return text(head + 'x'.repeat(n - head.length - 2) + '"}');
    };
    expect(decodeSampleJson(padded(MAX_PAYLOAD_BYTES)).cpu_pct).toBe(12.5);
    expect(refusal(() => decodeSampleJson(padded(MAX_PAYLOAD_BYTES + 1))).message).toMatch(/limit is/);
  });

  it('a top-level __proto__ is an unknown name: ignored, and no prototype is reached', () => {
    const sample = decodeSampleJson(text('{"__proto__": {"cpu_pct": 99, "polluted": 1}, "mem_pct": 40}'));
    expect(sample.mem_pct).toBe(40);
    expect(sample.cpu_pct).toBeUndefined();
    expect(Object.getPrototypeOf(sample)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a bare sample has no identity: every field absent but those sent', () => {
    const sample = decodeSampleJson(text('{"cpu_pct":12.5,"mem_pct":40}'));
    expect(Object.entries(sample).filter(([, v]) => v !== undefined)).toEqual([
      ['cpu_pct', 12.5],
      ['mem_pct', 40],
    ]);
  });

  it('identity, when sent, is checked and kept as CBOR keeps it', () => {
    const sample = decodeSampleJson(text('{"v":1,"boot":"3f9a1c0b","seq":0,"ts_ms":1764145200000,"temp_c":41.5}'));
    expect(sample).toMatchObject({ v: 1, boot: '3f9a1c0b', seq: 0, ts_ms: 1_764_145_200_000, temp_c: 41.5 });
  });

  it('deep nesting is refused before parsing; brackets inside strings do not count', () => {
    const nested = (levels: number) => `{"extra": ${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}, "cpu_pct": 1}`;
    expect(decodeSampleJson(text(nested(MAX_JSON_DEPTH))).cpu_pct).toBe(1);
    const err = refusal(() => decodeSampleJson(text(nested(MAX_JSON_DEPTH + 1))));
    expect(err.message).toBe(`sample: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(refusal(() => decodeSampleJson(text(`{"filesystems": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`))).message).toBe(err.message);
    const inText = `{"boot": "${'[{'.repeat(100)}\\\"[", "seq": 0}`;
    expect(decodeSampleJson(text(inText)).seq).toBe(0);
  });
});
