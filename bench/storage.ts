// Storage: how fast samples go into SQLite, how many bytes each value takes on disk, and how fast
// the API's queries answer over the seeded history. A simulated fleet is written straight through
// the store (no broker), oldest first. Figures only.
// Run: node scripts/run-ts.mjs bench/storage.ts [--nodes 200] [--hours 24] [--interval 10s]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeSample, parseDuration } from '../protocol/index.ts';
import { countValues, simulatedFleet } from './sample-fleet.ts';
import { openSqliteStore } from '../hub/sqlite-store.ts';
import type { IncomingSample } from '../hub/store.ts';
import { DEFAULT_SERIES } from '../shared/api-types.ts';

const { values: args } = parseArgs({
  options: { nodes: { type: 'string', default: '200' }, hours: { type: 'string', default: '24' }, interval: { type: 'string', default: '10s' } },
});
const nodes = Number(args.nodes);
const hours = Number(args.hours);
const intervalMs = parseDuration(args.interval) ?? NaN;
if (!(nodes > 0 && hours > 0 && intervalMs > 0)) throw new TypeError('--nodes, --hours and --interval must be positive');

const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-storage-'));
const dbPath = join(dir, 'bench.db');
const end = Date.now();
const start = end - hours * 3_600_000;
// The store's clock follows the seeding, so that rollups are derived as they would be live.
let simNow = start;
const store = openSqliteStore(dbPath, { now: () => simNow });
const fleet = simulatedFleet(nodes, start);
const steps = Math.floor((end - start) / intervalMs);
let samples = 0;
let values = 0;
let batch: IncomingSample[] = [];
let deriveMs = 0;
let nextDerive = start + 600_000;
const t0 = performance.now();
let lastReport = t0;
for (let step = 0; step < steps; step++) {
  const ts = start + step * intervalMs;
  simNow = ts;
  for (const node of fleet) {
    const sample = node.next(ts);
    values += countValues(sample);
    batch.push({ node: node.name, sample, raw: encodeSample(sample) });
  }
  if (batch.length >= 2000) {
    store.insertBatch(batch);
    samples += batch.length;
    batch = [];
  }
  if (ts >= nextDerive) {
    // Live, the hub derives every minute; every 10 simulated minutes keeps the bench short.
    store.insertBatch(batch);
    samples += batch.length;
    batch = [];
    const t = performance.now();
    await store.deriveRollups(async () => undefined);
    deriveMs += performance.now() - t;
    nextDerive += 600_000;
  }
  if (performance.now() - lastReport > 5000) {
    lastReport = performance.now();
    process.stderr.write(`  seeding… ${Math.round((step / steps) * 100)} %\n`);
  }
}
store.insertBatch(batch);
samples += batch.length;
simNow = end;
const t1 = performance.now();
await store.deriveRollups(async () => undefined);
deriveMs += performance.now() - t1;
const deriveS = deriveMs / 1000;
const seedS = (performance.now() - t0) / 1000 - deriveS;
store.db.pragma('wal_checkpoint(TRUNCATE)');
const bytes = statSync(dbPath).size;

const p50 = (fn: () => unknown, runs = 21) => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
};
const query = (rangeMs: number) => () =>
  store.querySeries({ node: fleet[0]!.name, metrics: [...DEFAULT_SERIES], fromMs: end - rangeMs, toMs: end, maxPoints: 1000 });
const points24h = query(86_400_000)()!.data[0].length;

console.log(`storage: ${nodes} nodes × ${hours} h at ${args.interval} = ${samples.toLocaleString()} samples, ${values.toLocaleString()} values`);
console.log(`  insert                 ${Math.round(samples / seedS).toLocaleString()} samples/s, ${Math.round(values / seedS).toLocaleString()} values/s`);
console.log(`  rollups (1 min, 15 min, 1 h) derived every 10 simulated min: ${deriveS.toFixed(1)} s in all, ${(deriveS / seedS * 100).toFixed(0)} % of the insert time`);
console.log(`  database size          ${(bytes / 2 ** 20).toFixed(1)} MiB, ${(bytes / values).toFixed(2)} bytes per value, ${Math.round(bytes / samples)} bytes per sample`);
console.log(`  1 h chart, 1 node      ${p50(query(3_600_000)).toFixed(2)} ms p50`);
console.log(`  24 h chart, 1 node     ${p50(query(86_400_000)).toFixed(2)} ms p50 (${points24h} points)`);
if (hours >= 168) console.log(`  7 d chart, 1 node      ${p50(query(7 * 86_400_000)).toFixed(2)} ms p50`);
console.log(`  fleet overview         ${p50(() => store.listNodes()).toFixed(2)} ms p50 (${nodes} nodes)`);
store.close();
rmSync(dir, { recursive: true, force: true });
