// The decoders against hostile CBOR, as a table: every hand-made payload (test/helpers/hostile-cbor.ts)
// is either refused with a ProtocolError or decodes to a value that meets the schema; nothing else
// is ever thrown, no prototype is reached, the shared decoder still decodes a good sample right
// after, and refusing is about as cheap as accepting.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decodeAck, decodeInfo, decodeSample, decodeSpoolReport, encodeInfo, encodeSample, ProtocolError } from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { handMadePayloads, hostileInfos, mutatedSamples, schemaProblem, validInfo, type HostilePayload } from '../helpers/hostile-cbor.ts';

type Outcome = { refused: string } | { accepted: unknown } | { crashed: string };

/** Runs a decoder; a throw other than ProtocolError is a crash of the contract. */
function attempt(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): Outcome {
  try {
    return { accepted: decode(bytes) };
  } catch (err) {
    if (err instanceof ProtocolError) return { refused: err.message };
    return { crashed: `${(err as Error)?.constructor?.name}: ${(err as Error)?.message}` };
  }
}

const prototypeSnapshot = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort().join(','),
  array: Object.getOwnPropertyNames(Array.prototype).sort().join(','),
  map: Object.getOwnPropertyNames(Map.prototype).sort().join(','),
});

const GOOD = realisticPi4Sample();
const GOOD_BYTES = encodeSample(GOOD);
const GOOD_DECODED = decodeSample(GOOD_BYTES);

describe('decodeSample against hand-made hostile payloads', () => {
  const before = prototypeSnapshot();
  const payloads = handMadePayloads();

  it.each(payloads.map((p) => [p.name, p] as const))(
    '%s: refused or schema-conformant, and the decoder still works after',
    (_name, payload: HostilePayload) => {
      const outcome = attempt(decodeSample, payload.bytes);
      expect(outcome).not.toHaveProperty('crashed');
      if ('accepted' in outcome) expect(schemaProblem(outcome.accepted as Record<string, unknown>)).toBeNull();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(decodeSample(GOOD_BYTES)).toEqual(GOOD_DECODED);
    },
  );

  it('reaches no prototype', () => {
    for (const p of payloads) attempt(decodeSample, p.bytes);
    expect(prototypeSnapshot()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses the attacks that matter with a ProtocolError (not by luck of the schema)', () => {
    const named = (prefix: string) => payloads.filter((p) => p.name.startsWith(prefix));
    for (const p of [
      ...named('10,000 nested'),
      ...named('60,000 nested'),
      ...named('byte string claiming'),
      ...named('array claiming'),
      ...named('tag 27'),
      ...named('one byte over'),
    ]) {
      expect(attempt(decodeSample, p.bytes), p.name).toHaveProperty('refused');
    }
  });
});

describe('decodeInfo, decodeSpoolReport and decodeAck against hostile payloads', () => {
  const payloads = [...hostileInfos(), ...handMadePayloads()];
  it.each([
    ['decodeInfo', decodeInfo],
    ['decodeSpoolReport', decodeSpoolReport],
    ['decodeAck', decodeAck],
  ] as const)('%s refuses with a ProtocolError or returns, never anything else', (_name, decode) => {
    const before = prototypeSnapshot();
    const crashes = payloads.map((p) => [p.name, attempt(decode, p.bytes)] as const).filter(([, o]) => 'crashed' in o);
    expect(crashes).toEqual([]);
    expect(prototypeSnapshot()).toEqual(before);
    expect(decodeInfo(encodeInfo(validInfo()))).toEqual(validInfo());
  });
});

describe('decodeSample against seeded mutations of valid samples', () => {
  it('refuses or returns a conformant sample for 2,000 mutations (seed printed)', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`hostile-decode: mutation seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    const before = prototypeSnapshot();
    const failures: string[] = [];
    for (const p of mutatedSamples(seed, 2000)) {
      const outcome = attempt(decodeSample, p.bytes);
      if ('crashed' in outcome) failures.push(`${p.name}: ${outcome.crashed}`);
      else if ('accepted' in outcome) {
        const problem = schemaProblem(outcome.accepted as Record<string, unknown>);
        if (problem) failures.push(`${p.name}: accepted but ${problem}`);
      }
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(prototypeSnapshot()).toEqual(before);
    expect(decodeSample(GOOD_BYTES)).toEqual(GOOD_DECODED);
  });
});

describe('cost of refusing', () => {
  it('decoding every hand-made payload costs at most 20× decoding as many valid samples', () => {
    const payloads = handMadePayloads();
    const valid = Array.from({ length: payloads.length }, () => GOOD_BYTES);
    const time = (list: Uint8Array[]) => {
      const start = performance.now();
      for (const b of list) attempt(decodeSample, b);
      return performance.now() - start;
    };
    // warm both paths up, then take the best of 3 of each so that one GC pause does not decide
    time(valid);
    time(payloads.map((p) => p.bytes));
    let best = { valid: Infinity, hostile: Infinity };
    for (let i = 0; i < 3; i++) best = { valid: Math.min(best.valid, time(valid)), hostile: Math.min(best.hostile, time(payloads.map((p) => p.bytes))) };
    console.log(
      `hostile-decode: ${payloads.length} hostile payloads ${best.hostile.toFixed(1)} ms, as many valid samples ${best.valid.toFixed(1)} ms (×${(best.hostile / best.valid).toFixed(1)})`,
    );
    expect(best.hostile).toBeLessThanOrEqual(20 * best.valid);
  });
});
