// How many bytes one sample costs on the wire: our CBOR with integer keys against what a naive JSON
// protocol would send, and against plain cbor-x with text keys. Figures only, no asserts: the
// ratio is held by test/protocol/wire-size.test.ts.
// Run: node scripts/run-ts.mjs bench/wire-size.ts
import { encode } from 'cbor-x';
import { decodeSample, encodeSample, type Sample } from '../protocol/index.ts';
import { realisticPi4Sample, withoutProcesses } from '../test/fixtures/realistic-sample.ts';

interface Sizes {
  json: number;
  cborTextKeys: number;
  cbor: number;
}

function sizes(sample: Sample): Sizes {
  const bytes = encodeSample(sample);
  // What a client holds after decoding: the object a JSON protocol would have sent as is.
  const decoded = decodeSample(bytes);
  return {
    json: Buffer.byteLength(JSON.stringify(decoded), 'utf8'),
    cborTextKeys: encode(decoded).length,
    cbor: bytes.length,
  };
}

const full = sizes(realisticPi4Sample());
const lite = sizes(withoutProcesses(realisticPi4Sample()));
// The agent sends the process list in 1 sample of 5.
const cycle: Sizes = {
  json: (full.json + 4 * lite.json) / 5,
  cborTextKeys: (full.cborTextKeys + 4 * lite.cborTextKeys) / 5,
  cbor: (full.cbor + 4 * lite.cbor) / 5,
};

const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const row = (label: string, pick: (s: Sizes) => number | string) =>
  `${label.padEnd(34)}${[full, lite, cycle].map((s) => String(pick(s)).padStart(14)).join('')}`;

console.log('wire size of one sample, Raspberry Pi 4 shape (4 cores, 3 filesystems, 3 interfaces, temp, top 5 × 2)');
console.log(''.padEnd(34) + ['full', 'no processes', 'avg of 1+4'].map((h) => h.padStart(14)).join(''));
console.log(row('JSON, text keys (bytes)', (s) => Math.round(s.json)));
console.log(row('plain cbor-x, text keys (bytes)', (s) => Math.round(s.cborTextKeys)));
console.log(row('CBOR, encodeSample (bytes)', (s) => Math.round(s.cbor)));
console.log(row('CBOR / JSON', (s) => pct(s.cbor, s.json)));
console.log(row('plain cbor-x / JSON', (s) => pct(s.cborTextKeys, s.json)));
console.log(row('CBOR / plain cbor-x', (s) => pct(s.cbor, s.cborTextKeys)));
const perDay = (bytes: number) => `${(((86_400 / 5) * bytes) / 1e6).toFixed(2)} MB`;
console.log(`\nper node and day at one sample every 5 s: ${perDay(cycle.cbor)} as CBOR, ${perDay(cycle.json)} as JSON (payloads only)`);
