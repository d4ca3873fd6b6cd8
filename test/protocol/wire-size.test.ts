// The reason for integer keys, held as a ratio (not a time, so it does not depend on the machine):
// the realistic full sample of bench/wire-size.ts must cost at most 45 % of its JSON.
import { describe, expect, it } from 'vitest';
import { decodeSample, encodeSample } from '../../protocol/index.ts';
import { realisticPi4Sample, withoutProcesses } from '../fixtures/realistic-sample.ts';

/** CBOR bytes over the bytes of the same decoded sample as JSON, what a naive JSON protocol sends. */
function ratio(bytes: Uint8Array): number {
  return bytes.length / Buffer.byteLength(JSON.stringify(decodeSample(bytes)), 'utf8');
}

describe('wire size', () => {
  it('a full Raspberry Pi 4 sample takes at most 45 % of its JSON', () => {
    expect(ratio(encodeSample(realisticPi4Sample()))).toBeLessThanOrEqual(0.45);
  });

  it('so does the same sample without the process list, as most samples are', () => {
    expect(ratio(encodeSample(withoutProcesses(realisticPi4Sample())))).toBeLessThanOrEqual(0.45);
  });

  it('stays far below the payload cap', () => {
    expect(encodeSample(realisticPi4Sample()).length).toBeLessThan(1024);
  });
});
