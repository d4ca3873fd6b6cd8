// A few fields of a stored sample decoded without the rest: the same values as a whole decode
// (what our encoder writes, another encoder's indefinite-length map, a newer agent's unknown
// key), only the fields asked for, and a bad value in one of them refused as a whole decode would.
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeSampleFields, decodeSampleFieldsOf, encodeSample, ProtocolError, SAMPLE_FIELDS, type Sample } from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';

const keyOf = (name: keyof Sample): number => SAMPLE_FIELDS.find((f) => f.name === name)!.key;
const wanted = new Set([keyOf('ts_ms'), keyOf('cpu_pct'), keyOf('filesystems'), keyOf('net'), keyOf('series'), keyOf('temp_c')]);
const sample: Sample = {
  ...realisticPi4Sample(),
  series: [{ name: 'container_cpu_pct', labels: { container: 'web' }, value: 12.5 }],
};
/** Only the wanted fields of a whole decode, the others absent. */
const cut = (s: Partial<Sample>): Partial<Sample> =>
  Object.fromEntries(SAMPLE_FIELDS.filter((f) => wanted.has(f.key) && s[f.name] !== undefined).map((f) => [f.name, s[f.name]]));
const defined = (s: Partial<Sample>): Partial<Sample> => Object.fromEntries(Object.entries(s).filter(([, value]) => value !== undefined));
const wire = (s: Sample): Map<number, unknown> => decodeRaw(encodeSample(s));
const raw = new Encoder({ mapsAsObjects: false, useRecords: false });
const decodeRaw = (bytes: Uint8Array) => raw.decode(bytes) as Map<number, unknown>;

describe('decodeSampleFieldsOf', () => {
  it('gives the fields asked for as a whole decode does, and none of the others', () => {
    const bytes = encodeSample(sample);
    const some = defined(decodeSampleFieldsOf(bytes, wanted));
    expect(some).toEqual(cut(decodeSampleFields(bytes)));
    expect(Object.keys(some).sort()).toEqual(['cpu_pct', 'filesystems', 'net', 'series', 'temp_c', 'ts_ms']);
  });

  it('passes over a newer agent’s unknown key, and gives absent fields as absent', () => {
    const map = wire(sample);
    map.delete(keyOf('temp_c'));
    map.set(200, [1, [2, { x: 'y' }], 'z']);
    const bytes = raw.encode(map);
    expect(defined(decodeSampleFieldsOf(bytes, wanted))).toEqual(cut(decodeSampleFields(bytes)));
    expect(decodeSampleFieldsOf(bytes, wanted).temp_c).toBeUndefined();
  });

  it('decodes a map of indefinite length (another encoder’s) whole, with the same result', () => {
    const definite = encodeSample(sample);
    expect(definite[0]! >> 5).toBe(5);
    // The same entries after an indefinite-length map head (0xbf), closed by a break (0xff).
    const headBytes = (definite[0]! & 0x1f) < 24 ? 1 : 2;
    const indefinite = new Uint8Array([0xbf, ...definite.subarray(headBytes), 0xff]);
    expect(defined(decodeSampleFieldsOf(indefinite, wanted))).toEqual(cut(decodeSampleFields(definite)));
  });

  it('refuses a bad value in a field asked for, as a whole decode does', () => {
    const map = wire(sample);
    map.set(keyOf('cpu_pct'), 'high');
    const bytes = raw.encode(map);
    expect(() => decodeSampleFieldsOf(bytes, wanted)).toThrow(ProtocolError);
    expect(() => decodeSampleFieldsOf(bytes, wanted)).toThrow(/cpu_pct/);
    expect(() => decodeSampleFieldsOf(bytes.subarray(0, bytes.length - 3), wanted)).toThrow(ProtocolError);
  });
});
