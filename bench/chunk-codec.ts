// The raw chunk codec (hub/storage/chunk-codec.ts) on real samples beside simulated ones: bytes per
// value of the chunks compaction writes (900 rows: a quarter of a 1 Hz hour, 15 h at 1/min), the columns'
// share and the detail blobs', encode and decode time per chunk, and the costliest columns of each.
// The real reference is this machine read by the agent's own sampler (edge-agent/choose-sampler.ts)
// at 1 Hz, the process list every 5 s as the agent does: recorded now with --record, or a file of
// such samples (one JSON sample a line) with --real; by default test/fixtures/real-samples-1hz.jsonl.gz:
// 15 minutes of the 2-core development VM (x86-64, 24 GiB, no swap) at 1 Hz, recorded by this bench's
// sampling while other work ran on it (load 2–12): busier than an idle edge node. The simulated side is the fleet the
// storage benches write (bench/sample-fleet.ts). Labelled series are left out of both: they are
// stored apart, and the simulator makes none. Figures only.
// Run: node scripts/run-ts.mjs bench/chunk-codec.ts [--record 180] [--real file.jsonl[.gz]] [--save file.jsonl] [--nodes 10]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { createSampler } from '../edge-agent/choose-sampler.ts';
import { decodeChunk, encodeChunk, type ChunkRows } from '../hub/storage/chunk-codec.ts';
import { pathsOf, splitDetails } from '../hub/storage/detail-columns.ts';
import { SAMPLE_COLUMNS } from '../hub/storage/packed-samples.ts';
import { encodeDetail } from '../hub/storage/sample-detail.ts';
import { toPoint } from '../hub/storage/sample-point.ts';
import { PROTOCOL_VERSION, type Sample } from '../protocol/index.ts';
import { countValues, simulatedFleet } from './sample-fleet.ts';

const { values: args } = parseArgs({
  options: {
    record: { type: 'string', default: '0' },
    real: { type: 'string' },
    save: { type: 'string' },
    nodes: { type: 'string', default: '10' },
  },
});
const recordSeconds = Number(args.record);
const nodes = Number(args.nodes);
if (!(recordSeconds >= 0 && nodes > 0)) throw new TypeError('--record must be 0 or more seconds, --nodes positive');
// From bench/ and from dist/ (where run-ts.mjs runs the bundle) alike.
const FIXTURE = new URL('../test/fixtures/real-samples-1hz.jsonl.gz', import.meta.url).pathname;
const ROWS_1HZ = 900; // hub/storage/sqlite/chunk-store.ts cuts a 1 Hz hour at 900 rows
const HOUR = 3_600_000;

function readSamples(path: string): Sample[] {
  const bytes = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Sample);
}

/** This machine at 1 Hz for `seconds`, as the agent samples it. */
async function record(seconds: number): Promise<Sample[]> {
  const sampler = createSampler(() => {});
  const out: Sample[] = [];
  const boot = `real-${Date.now().toString(16)}`;
  let lastProcesses = -Infinity;
  const start = Date.now();
  for (let seq = 0, due = start; seq < seconds; seq++, due += 1000) {
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const now = Date.now();
    const processes = now - lastProcesses >= 5000;
    const reading = await sampler.read({ processes });
    if (processes) lastProcesses = now;
    out.push({ v: PROTOCOL_VERSION, boot, seq, ts_ms: now, ...reading });
  }
  sampler.close?.();
  return out;
}

const withoutSeries = (s: Sample): Sample => {
  const { series: _, ...rest } = s;
  return rest;
};

/** Samples into chunks of at most `rows`, as compaction builds them (hub/storage/sqlite/chunk-store.ts). */
function chunksOf(samples: readonly Sample[], rows: number): ChunkRows[] {
  const chunks: ChunkRows[] = [];
  for (let at = 0; at < samples.length; at += rows) {
    const part = samples.slice(at, at + rows);
    const points = part.map((s) => toPoint(s) as unknown as Record<string, number | undefined>);
    chunks.push({
      tsMs: part.map((s) => s.ts_ms),
      seq: part.map((s) => s.seq),
      boot: part.map((s) => s.boot),
      columns: SAMPLE_COLUMNS.map((m) => points.map((p) => p[m] ?? null)),
      detail: part.map((s) => encodeDetail(s)),
    });
  }
  return chunks;
}

interface Figures {
  samples: number;
  values: number;
  chunks: number;
  bytes: number;
  columnsBytes: number;
  encodeUs: number;
  decodeUs: number;
  /** Bytes of the chunks also coded column by column. */
  analysedBytes: number;
  /** Bytes of each column coded alone (its chunk less an empty one), by name. */
  perColumn: Map<string, { bytes: number; values: number }>;
}

// The detail blob's lists (hub/storage/sample-detail.ts) and their tuples' members.
const DETAIL_LISTS = ['cpu_core_pct', 'fs', 'net', 'top_cpu', 'top_mem'];
const MEMBERS: Record<string, string[]> = {
  fs: ['mount', 'size_bytes', 'used_bytes', 'used_pct'],
  net: ['iface', 'rx_bps', 'tx_bps'],
  top_cpu: ['pid', 'name', 'cpu_pct', 'rss_bytes', 'threads'],
  top_mem: ['pid', 'name', 'cpu_pct', 'rss_bytes', 'threads'],
};

/** A detail column's path (detail-columns.ts) as list.member, whichever item (core, mount, process) it is of. */
function detailName(path: string): string {
  // '/list/item/member' (a mount's name may hold slashes: the member is the last part), or '/list/item'.
  const parts = path.split('/');
  const list = parts[1];
  const member = parts.length > 3 ? parts.at(-1) : undefined;
  const name = DETAIL_LISTS[Number(list)] ?? `detail ${list}`;
  return member === undefined ? name : `${name}.${MEMBERS[name]?.[Number(member)] ?? member}`;
}

/** The shortest of `times` runs, µs: on a shared machine the least disturbed one (the first warms the code up). */
const timeUs = (f: () => void, times: number) => {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, (performance.now() - t0) * 1000);
  }
  return best;
};

/** `perColumnChunks`: how many of the chunks (the first) are also coded column by column, which is slow. */
function measure(samples: readonly Sample[], rows: number, perColumnChunks = Infinity): Figures {
  const chunks = chunksOf(samples, rows);
  const f: Figures = {
    samples: samples.length,
    values: 0,
    chunks: chunks.length,
    bytes: 0,
    columnsBytes: 0,
    encodeUs: 0,
    decodeUs: 0,
    analysedBytes: 0,
    perColumn: new Map(),
  };
  for (const s of samples) f.values += countValues(s);
  const add = (name: string, bytes: number, values: number) => {
    const e = f.perColumn.get(name) ?? { bytes: 0, values: 0 };
    e.bytes += bytes;
    e.values += values;
    f.perColumn.set(name, e);
  };
  for (const [index, chunk] of chunks.entries()) {
    const bytes = encodeChunk(chunk);
    f.bytes += bytes.length;
    const noDetail = { ...chunk, detail: chunk.detail.map(() => null) };
    f.columnsBytes += encodeChunk(noDetail).length;
    // More runs of the first chunks, which the code is not yet warm for.
    const times = index < 3 ? 7 : 2;
    f.encodeUs += timeUs(() => encodeChunk(chunk), times);
    f.decodeUs += timeUs(() => decodeChunk(bytes), times);
    if (index >= perColumnChunks) continue;
    f.analysedBytes += bytes.length;
    const empty = encodeChunk({ ...noDetail, columns: [] }).length;
    const alone = (column: (number | null)[]) => encodeChunk({ ...noDetail, columns: [column] }).length - empty;
    const count = (column: (number | null)[]) => column.filter((v) => v !== null).length;
    chunk.columns.forEach((column, c) => add(SAMPLE_COLUMNS[c]!, alone(column), count(column)));
    const split = splitDetails(chunk.detail);
    if (split) {
      const paths = pathsOf(split.shapes).map(detailName);
      split.columns.forEach((column, c) => add(paths[c]!, alone(column), count(column)));
    }
  }
  f.encodeUs /= chunks.length;
  f.decodeUs /= chunks.length;
  return f;
}

const fmt = (n: number, digits = 2) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function line(label: string, f: Figures): string {
  return [
    label.padEnd(34),
    String(f.samples).padStart(7),
    String(f.chunks).padStart(6),
    fmt(f.bytes / f.values).padStart(8),
    fmt(f.columnsBytes / f.values).padStart(8),
    fmt((f.bytes - f.columnsBytes) / f.values).padStart(8),
    fmt(f.encodeUs / 1000).padStart(9),
    fmt(f.decodeUs / 1000).padStart(9),
  ].join(' ');
}

const real: { label: string; samples: Sample[] }[] = [];
const fixture = args.real ?? (existsSync(FIXTURE) ? FIXTURE : undefined);
if (fixture) real.push({ label: args.real ? `real (${args.real})` : 'real (fixture)', samples: readSamples(fixture).map(withoutSeries) });
if (recordSeconds > 0) {
  console.log(`recording this machine at 1 Hz for ${recordSeconds} s (load ${readLoad()})…`);
  const recorded = await record(recordSeconds);
  if (args.save) writeFileSync(args.save, `${recorded.map((s) => JSON.stringify(s)).join('\n')}\n`);
  real.push({ label: `real (recorded now, ${recordSeconds} s)`, samples: recorded.map(withoutSeries) });
}
if (real.length === 0) throw new Error('no real samples: record some with --record 180, or give a file with --real');

function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/** `count` samples of each of `nodes` simulated nodes, `intervalMs` apart, ending at a whole hour. */
function simulated(count: number, intervalMs: number): Sample[][] {
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const start = end - count * intervalMs;
  return simulatedFleet(nodes, start - 7 * 86_400_000).map((node) => Array.from({ length: count }, (_, i) => node.next(start + i * intervalMs)));
}

const rows1Hz = Math.min(ROWS_1HZ, Math.min(...real.map((r) => r.samples.length)));
console.log(`chunk codec: bytes per value of raw chunks (countValues, bench/sample-fleet.ts); load ${readLoad()}`);
console.log(`${`at 1 Hz, chunks of ≤ ${rows1Hz} rows`.padEnd(34)} samples chunks   all B/v  columns   detail encode ms decode ms`);
const results: { label: string; f: Figures }[] = [];
for (const { label, samples } of real) results.push({ label, f: measure(samples, rows1Hz) });
const simSamples = simulated(Math.max(rows1Hz, ROWS_1HZ), 1000);
const perNode = simSamples.map((s, i) => measure(s, rows1Hz, i < 2 ? 1 : 0));
const sum = (pick: (f: Figures) => number) => perNode.reduce((n, f) => n + pick(f), 0);
const sim: Figures = {
  samples: sum((f) => f.samples),
  values: sum((f) => f.values),
  chunks: sum((f) => f.chunks),
  bytes: sum((f) => f.bytes),
  columnsBytes: sum((f) => f.columnsBytes),
  analysedBytes: sum((f) => f.analysedBytes),
  encodeUs: sum((f) => f.encodeUs) / perNode.length,
  decodeUs: sum((f) => f.decodeUs) / perNode.length,
  perColumn: new Map(),
};
for (const f of perNode)
  for (const [name, e] of f.perColumn) {
    const into = sim.perColumn.get(name) ?? { bytes: 0, values: 0 };
    into.bytes += e.bytes;
    into.values += e.values;
    sim.perColumn.set(name, into);
  }
results.push({ label: `simulated (${nodes} nodes)`, f: sim });
for (const { label, f } of results) console.log(line(label, f));
// At 1/min compaction cuts a node's day at 900 rows (hub/storage/sqlite/chunk-store.ts): 900 and 540; it cut hours of 60 before.
const minuteDay = simulated(24 * 60, 60_000);
for (const rows of [ROWS_1HZ, 60]) {
  const minute = minuteDay.map((s) => measure(s, rows, 0));
  const all = minute.reduce((a, f) => ({ bytes: a.bytes + f.bytes, values: a.values + f.values, us: a.us + f.encodeUs }), { bytes: 0, values: 0, us: 0 });
  console.log(
    `simulated at 1/min, a day in chunks of ≤ ${rows} rows: ${fmt(all.bytes / all.values)} B/value, encode ${fmt(all.us / minute.length / 1000)} ms a chunk`,
  );
}

console.log('\ncostliest columns (each coded alone, bytes per value of that column; share of the whole)');
const names = new Set<string>();
for (const { f } of results) for (const name of f.perColumn.keys()) names.add(name);
const byCost = [...names]
  .map((name) => ({ name, costs: results.map(({ f }) => f.perColumn.get(name)) }))
  .sort(
    (a, b) =>
      Math.max(...b.costs.map((c, i) => (c?.bytes ?? 0) / results[i]!.f.analysedBytes)) -
      Math.max(...a.costs.map((c, i) => (c?.bytes ?? 0) / results[i]!.f.analysedBytes)),
  );
console.log(`${''.padEnd(34)} ${results.map(({ label }) => label.slice(0, 22).padStart(22)).join(' ')}`);
for (const { name, costs } of byCost.slice(0, 24)) {
  const cells = costs.map((c, i) =>
    (c && c.values > 0 ? `${fmt(c.bytes / c.values)} (${fmt((100 * c.bytes) / results[i]!.f.analysedBytes, 0)} %)` : '—').padStart(22),
  );
  console.log(`${name.slice(0, 34).padEnd(34)} ${cells.join(' ')}`);
}
