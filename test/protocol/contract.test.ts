// The version-1 contract, pinned to bytes.
//
// test/fixtures/samples-v1.cbor is never regenerated. It is a CBOR sequence (RFC 8742: data items
// concatenated) of version-1 samples that were written once, by hand, with cbor-x from the key
// table, not with encodeSample: an independent record of what v1 looks like on the wire, as the
// agent writes it (float32 where it keeps the decimals, float64 for integers above 2^32 − 1) and as
// another encoder would (float64 throughout, 8-byte integers); with and without swap, temperature,
// process list; fields from a newer v1 agent. samples-v1.json holds what each must decode to.
//
// When the format grows, a later version adds its own fixture beside this one; this test must keep
// passing unchanged, because the format only grows.
import { readFileSync } from 'node:fs';
import { decodeMultiple } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeSample, type Sample } from '../../protocol/index.ts';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const sequence = new Uint8Array(readFileSync(fixture('samples-v1.cbor')));
const expected = JSON.parse(readFileSync(fixture('samples-v1.json'), 'utf8')) as Sample[];

/**
 * Where the data item that starts at `at` ends (RFC 8949 §3: head, then content). Enough to cut a
 * sequence into the exact bytes of each item; definite lengths only, which is all v1 uses.
 */
function itemEnd(bytes: Uint8Array, at: number): number {
  const initial = bytes[at];
  if (initial === undefined) throw new Error(`no data item at byte ${at}`);
  const major = initial >> 5;
  const info = initial & 0x1f;
  let pos = at + 1;
  let argument = info;
  if (info >= 24 && info <= 27) {
    argument = 0;
    for (let i = 0; i < 1 << (info - 24); i++) argument = argument * 256 + bytes[pos++]!;
  } else if (info > 27) {
    throw new Error(`indefinite length or reserved value (additional information ${info}) at byte ${at}`);
  }
  switch (major) {
    case 2: // byte string
    case 3: // text string
      return pos + argument;
    case 4: // array
      for (let i = 0; i < argument; i++) pos = itemEnd(bytes, pos);
      return pos;
    case 5: // map: keys and values
      for (let i = 0; i < 2 * argument; i++) pos = itemEnd(bytes, pos);
      return pos;
    case 6: // tag: one item follows
      return itemEnd(bytes, pos);
    default: // integers, and simple values and floats, whose bytes the argument already covered
      return pos;
  }
}

function splitSequence(bytes: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = itemEnd(bytes, at);
    items.push(bytes.subarray(at, end));
    at = end;
  }
  return items;
}

describe('samples-v1.cbor, the version-1 contract', () => {
  const items = splitSequence(sequence);

  it('splits into as many items as cbor-x decodeMultiple finds, one per expected sample', () => {
    expect(decodeMultiple(sequence)).toHaveLength(items.length);
    expect(items.length).toBe(expected.length);
    expect(items.length).toBeGreaterThanOrEqual(5);
  });

  it.each(expected.map((sample, i) => [i + 1, sample] as const))('sample %i decodes to what samples-v1.json says', (n, sample) => {
    expect(decodeSample(items[n - 1]!)).toEqual(sample);
  });
});
