// The hub's ingest work per sample, stage by stage, without a broker: CPU µs per sample of decode,
// the point, the live feed's listeners that every sample meets (/metrics' labelled values and rate
// totals; the alarms need a broker and are measured in bench/hub-ingest.ts), the store's batch
// insert with its watermarks and commit (a real SQLite file, WAL, synchronous = FULL), the
// per-process history, and the ack payloads. The stages of
// bench/hub-ingest.ts that are ours, measured alone, so that machine noise and the broker's own share
// do not hide them. Figures only.
// Run: node scripts/run-ts.mjs bench/hub-stages.ts [--samples 100000] [--nodes 1000] [--batch 5000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { decodeSample, encodeAck, encodeSample, type Sample } from '../protocol/index.ts';
import { AckTracker } from '../hub/ingest/ack-tracker.ts';
import { PackedSamples } from '../hub/storage/packed-samples.ts';
import { toPoint } from '../hub/storage/sample-point.ts';
import { SessionStore } from '../hub/sessions/sessions.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import type { IncomingSample } from '../hub/storage/store.ts';
import { LatestLabelled } from '../hub/integrations/latest-labelled.ts';
import { RateTotals } from '../hub/integrations/rate-totals.ts';

const { values } = parseArgs({
  options: { samples: { type: 'string', default: '100000' }, nodes: { type: 'string', default: '1000' }, batch: { type: 'string', default: '5000' } },
});
const total = Number(values.samples);
const batchSize = Number(values.batch);
const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => new SimulatedNode(`load-${String(i).padStart(5, '0')}`, i + 1));
const t0 = Date.now() - 86_400_000;
const payloads: { node: string; raw: Buffer }[] = [];
for (let i = 0; i < total; i++) {
  const node = nodes[i % nodes.length]!;
  payloads.push({ node: node.name, raw: Buffer.from(encodeSample(node.next(t0 + Math.floor(i / nodes.length) * 100))) });
}

/** CPU time of `run` (this thread, user + system), in µs per sample; wall time beside it for the commits' fsyncs. */
function stage(label: string, run: () => void): void {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  run();
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wall0) * 1000;
  console.log(`  ${label.padEnd(44)} ${((cpu.user + cpu.system) / total).toFixed(1).padStart(6)} µs CPU  ${(wall / total).toFixed(1).padStart(6)} µs wall`);
}

const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-stages-'));
const store = openSqliteStore(join(dir, 'remonitor.db'));
const acks = new AckTracker(store.db);
const sessions = new SessionStore(store.db);
console.log(`hub ingest per stage, ${total.toLocaleString()} samples of ${nodes.length.toLocaleString()} nodes, batches of ${batchSize.toLocaleString()}`);
const samples: Sample[] = new Array(total);
stage('decode + validate (decodeSample)', () => {
  for (let i = 0; i < total; i++) samples[i] = decodeSample(payloads[i]!.raw);
});
const items: IncomingSample[] = new Array(total);
stage('toPoint', () => {
  for (let i = 0; i < total; i++) items[i] = { node: payloads[i]!.node, sample: samples[i]!, raw: payloads[i]!.raw, point: toPoint(samples[i]!) };
});
const latest = new LatestLabelled();
stage("/metrics' labelled values (LatestLabelled)", () => {
  for (let i = 0; i < total; i++) latest.add(items[i]!.node, samples[i]!);
});
const totals = new RateTotals();
stage('fleet rate totals (RateTotals)', () => {
  for (let i = 0; i < total; i++) totals.add(items[i]!.node, items[i]!.point!);
});
const packed: PackedSamples[] = [];
stage('pack for the writer thread (main thread)', () => {
  for (let i = 0; i < total; i += batchSize) packed.push(PackedSamples.pack(items.slice(i, i + batchSize)));
});
let ackCount = 0;
stage('insert + watermarks + commit (writer thread)', () => {
  for (const samples of packed) ackCount += acks.commit(samples, () => store.insertPacked(samples)).acks.length;
});
stage(`ack payloads (${(ackCount / total).toFixed(2)} per sample)`, () => {
  for (let i = 0; i < ackCount; i++) Buffer.from(encodeAck({ boot: 'b', next: i }));
});
stage('per-process history (1 commit / 1 s of samples)', () => {
  for (let i = 0; i < total; i++) {
    const s = samples[i]!;
    if (s.top_cpu) sessions.addTopLists(payloads[i]!.node, s.ts_ms, s.top_cpu, s.top_mem ?? []);
    if ((i + 1) % 10_000 === 0) sessions.flushProcesses();
  }
  sessions.flushProcesses();
});
store.close();
rmSync(dir, { recursive: true, force: true });
