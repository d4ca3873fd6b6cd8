// Hub ingest against the broker's own limit, in one run: first the raw QoS 1 pub/sub rate of the
// embedded broker to a plain subscriber, then the same load through the hub (decode, SQLite commit
// in batches with rollups), with sample-to-stored latency and the hub's memory. Then the same
// publishers paced at a fraction of that raw rate (70 % by default, the issue's target): does the hub
// keep up, with flat memory and sample-to-stored p99 under a second? Figures only.
// Run: node scripts/run-ts.mjs bench/hub-ingest.ts [--duration 60s] [--paced-fraction 0.7] [--broker-process] [--nodes 1000]
//        [--compaction [--seed-nodes 200]] [--cpu-profile hub.cpuprofile]
// --broker-process runs the broker as its own process (`remonitor broker`, as a hub beside a
// separate broker or Mosquitto is deployed) instead of in the hub's process and thread (`remonitor up`).
// --compaction: instead of the paced and fleet runs, the saturated hub run again while the writer's
// thread runs a purge (the compaction a live hub runs every 10 min, which a run of a minute may
// never meet) over a backlog seeded before the hub opened its file (bench/compaction-backlog.ts:
// --seed-nodes at 1 Hz for 10 min, and an hour's rollup buckets): the ratio to the
// raw rate with and without compaction, in the same run. Seeding takes a minute or two.
// --cpu-profile FILE: the main thread's CPU profile over the saturated hub run (the profiler slows it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../shared/logger.ts';
import { DB_FILE, HubService } from '../cli/hub-service.ts';
import { seedCompactionBacklog } from './compaction-backlog.ts';

const { values } = parseArgs({
  options: {
    'broker-process': { type: 'boolean', default: false },
    'no-alarms': { type: 'boolean', default: false },
    duration: { type: 'string', default: '60s' },
    'paced-fraction': { type: 'string', default: '0.7' },
    'fleet-nodes': { type: 'string', default: '5000' },
    'fleet-duration': { type: 'string', default: '30s' },
    nodes: { type: 'string', default: '1000' },
    compaction: { type: 'boolean', default: false },
    'seed-nodes': { type: 'string', default: '200' },
    // A CPU profile of this process over the saturated hub run (the main thread: broker, hub, bench), for Chrome's DevTools.
    'cpu-profile': { type: 'string' },
  },
});
const log = createLogger('silent');
const here = new URL('.', import.meta.url).pathname; // dist/, where scripts/run-ts.mjs put this bundle
const repo = join(here, '..');

function runPublisher(url: string, root: string, extra: string[] = []): Promise<{ published: number; seconds: number; cpuSeconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repo, 'scripts/run-ts.mjs'),
        join(repo, 'bench/load-publisher.ts'),
        '--broker',
        url,
        '--root',
        root,
        '--duration',
        values.duration!,
        '--nodes',
        values.nodes!,
        ...extra,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`publisher exited ${code}`))));
  });
}

function progress(label: string, count: () => number): () => void {
  const start = Date.now();
  const timer = setInterval(
    () => process.stderr.write(`  ${label}: ${Math.round((Date.now() - start) / 1000)} s, ${count().toLocaleString()} messages\n`),
    10_000,
  );
  return () => clearInterval(timer);
}

/** A broker in this process, or `remonitor broker` as a child process; its URL. */
async function startBroker(): Promise<{ url: string; stop: () => Promise<void>; child: ChildProcess | null; embedded?: EmbeddedBroker }> {
  if (!values['broker-process']) {
    const broker = new EmbeddedBroker({ port: 0, log });
    await broker.start();
    return { url: `mqtt://127.0.0.1:${broker.port}`, stop: () => broker.stop(), child: null, embedded: broker };
  }
  const child = spawn(
    process.execPath,
    [join(repo, 'bin/remonitor.mjs'), 'broker', '--insecure', '--mqtt-port', '0', '--ws-port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /broker at (mqtt:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!.replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`remonitor broker exited ${code}`)));
  });
  return { url, child, stop: () => new Promise((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
}

/** CPU seconds a child process has used so far (utime + stime from /proc), 0 without one. */
function childCpuSeconds(child: ChildProcess | null): number {
  if (!child?.pid) return 0;
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

const broker = await startBroker();
const url = broker.url;

// 1. Raw broker rate: a subscriber that only counts.
const sub = await mqtt.connectAsync(url, { protocolVersion: 4 });
let delivered = 0;
sub.on('message', () => delivered++);
await sub.subscribeAsync('bench/+/metrics', { qos: 1 });
let stop = progress('raw broker', () => delivered);
const rawStart = Date.now();
let cpu0 = process.cpuUsage();
let brokerCpu0 = childCpuSeconds(broker.child);
const rawPub = await runPublisher(url, 'bench');
const rawSeconds = (Date.now() - rawStart) / 1000;
const rawCpu = process.cpuUsage(cpu0);
const rawBrokerCpu = childCpuSeconds(broker.child) - brokerCpu0;
stop();
await sub.endAsync();
const rawRate = delivered / rawPub.seconds;

// 2. The hub: decode, validate, store, rollups.
const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-ingest-'));
const seedStart = performance.now();
if (values.compaction) process.stderr.write(`  seeding ${values['seed-nodes']} nodes' backlog for a purge run…\n`);
const backlog = values.compaction ? await seedCompactionBacklog(join(dataDir, DB_FILE), Number(values['seed-nodes']), 10) : null;
const seedSeconds = (performance.now() - seedStart) / 1000;
// Alarms evaluate every stored sample in the same process; --no-alarms measures ingest alone.
// As `remonitor up` runs it: a broker in the same process is subscribed directly (hub/ingest/fleet-link.ts).
const hub = new HubService({
  brokerUrl: url,
  embeddedBroker: broker.embedded,
  dataDir,
  httpPort: 0,
  log,
  ...(values['no-alarms'] ? { alarms: false as const } : {}),
});
await hub.start();
// Sample → stored: from the publisher's timestamp to the commit of the batch holding the sample.
// A histogram (constant memory: this is the hub's process, whose memory is measured too).
const latencies = createHistogram();
// The same, per 10 s of the paced run: does the latency stay level while the load goes on?
const windowLatencies = createHistogram();
hub.ingest.onStored((samples) => {
  const now = Date.now();
  for (let row = 0; row < samples.length; row++) {
    const ms = Math.max(1, now - samples.tsMs(row));
    latencies.record(ms);
    windowLatencies.record(ms);
  }
});
const rss0 = process.memoryUsage().rss;
stop = progress('hub ingest', () => hub.ingest.stats.stored);
let maxStall = 0;
let lastTick = performance.now();
cpu0 = process.cpuUsage();
brokerCpu0 = childCpuSeconds(broker.child);
// The loop's delays, for its p99: the longest stall alone may be one unlucky moment.
const hubLoop = monitorEventLoopDelay({ resolution: 10 });
hubLoop.enable();
const stallTimer = setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - lastTick - 50);
  lastTick = now;
}, 50);
const profiler = values['cpu-profile'] ? new Session() : null;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const hubElu0 = performance.eventLoopUtilization();
const hubPub = await runPublisher(url, 'remonitor');
const hubElu = performance.eventLoopUtilization(hubElu0);
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values['cpu-profile']!, JSON.stringify(profile));
  profiler.disconnect();
}
await new Promise((r) => setTimeout(r, 1000)); // the last batch
const hubCpu = process.cpuUsage(cpu0);
const hubBrokerCpu = childCpuSeconds(broker.child) - brokerCpu0;
stop();
clearInterval(stallTimer);
hubLoop.disable();
const rss1 = process.memoryUsage().rss;
const mem1 = process.memoryUsage();
const stored = hub.ingest.stats.stored;
const hubRate = stored / hubPub.seconds;
const pct = (p: number): number => latencies.percentile(p * 100);

const saturatedStall = maxStall;
const ingestLatency = `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.max} ms`;

/** Waits (at most 60 s) until the hub stores nothing more: the backlog of a run that outpaced it is in. */
async function drained(): Promise<void> {
  for (let i = 0, last = -1; i < 60 && hub.ingest.stats.stored !== last; i++) {
    last = hub.ingest.stats.stored;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The main thread's share of a span spent running (its event loop utilization): near 100 %, it is what limits ingest. */
const busy = (u: { utilization: number }) => `${(u.utilization * 100).toFixed(0)} %`;

/** The loop's p99 delay in ms, from a monitor's histogram (ns). */
const p99Ms = (h: { percentile(p: number): number }) => Math.round(h.percentile(99) / 1e6);

/**
 * 2c. The saturated hub run again, with the purge of the seeded backlog started on the writer's
 * thread as the first samples are stored (as the maintenance timer would start it, the writer
 * busy with batches), and its figures beside those of the run without it.
 */
async function reportWhileCompacting(): Promise<void> {
  await drained();
  latencies.reset();
  const before = hub.ingest.stats.stored;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  // (time, stored) every 100 ms: the rate over the purge's span alone.
  const trace: { at: number; stored: number }[] = [];
  const purge = { startAt: 0, endAt: 0, failed: '', running: Promise.resolve() };
  let worst = 0;
  let last = performance.now();
  const sampler = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 100);
    last = now;
    const stored = hub.ingest.stats.stored;
    trace.push({ at: now, stored });
    if (purge.startAt === 0 && stored > before) {
      purge.startAt = now;
      // The pause is the SQLite writer thread's own (hub/storage/sqlite/sqlite-writer-thread.ts); this one is for the other backends.
      purge.running = hub.storage.maintenance
        .purgeExpired(() => new Promise<void>((r) => setImmediate(r)))
        .then(
          () => void (purge.endAt = performance.now()),
          // As the hub's maintenance would (it logs the failure and tries again at the next run).
          (err: Error) => void ((purge.endAt = performance.now()), (purge.failed = err.message)),
        );
    }
  }, 100);
  const stopProgress = progress('hub ingest, compacting', () => hub.ingest.stats.stored - before);
  loop.enable();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const pub = await runPublisher(url, 'remonitor', ['--names', 'compacting']);
  const compactingElu = performance.eventLoopUtilization(elu);
  const publishedAt = performance.now();
  await new Promise((r) => setTimeout(r, 1000)); // the last batch
  const used = process.cpuUsage(cpu);
  loop.disable();
  stopProgress();
  clearInterval(sampler);
  const storedWhileCompacting = hub.ingest.stats.stored - before;
  const wholeRate = storedWhileCompacting / pub.seconds;
  // Over the purge's span inside the publishers' (the hub's last second of backlog left out).
  const spanEnd = Math.min(purge.endAt || Infinity, publishedAt);
  const inSpan = trace.filter((t) => t.at >= purge.startAt && t.at <= spanEnd);
  const spanRate = inSpan.length > 1 ? (inSpan.at(-1)!.stored - inSpan[0]!.stored) / ((inSpan.at(-1)!.at - inSpan[0]!.at) / 1000) : NaN;
  const compactingLatency = `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.max} ms`;
  const endedIn = purge.failed
    ? `FAILED after ${((purge.endAt - purge.startAt) / 1000).toFixed(0)} s (${purge.failed})`
    : purge.endAt
      ? `ended after ${((purge.endAt - purge.startAt) / 1000).toFixed(0)} s`
      : 'still running when the publishers stopped';
  await purge.running;
  const purgeSeconds = (purge.endAt - purge.startAt) / 1000;

  const pctOfRaw = (rate: number) => `${((rate / rawRate) * 100).toFixed(0)} %`;
  console.log(
    `hub ingest vs raw broker, with and without compaction, ${values.duration} each, 50 publishing connections, ${Number(values.nodes).toLocaleString()} simulated nodes, QoS 1, alarms ${values['no-alarms'] ? 'off' : 'on'}, broker ${values['broker-process'] ? 'in its own process' : "in the hub's process"}`,
  );
  console.log(
    `  backlog seeded                  ${backlog!.samples.toLocaleString()} samples of ${values['seed-nodes']} nodes in ${seedSeconds.toFixed(0)} s: ${backlog!.rawRows.toLocaleString()} raw rows to compact, and the rollup and labelled buckets of ${new Date(backlog!.hourMs[0]).toISOString()}–${new Date(backlog!.hourMs[1]).toISOString().slice(11)}`,
  );
  console.log(`  raw broker → plain subscriber   ${Math.round(rawRate).toLocaleString()} msg/s  (${delivered.toLocaleString()} in ${rawSeconds.toFixed(0)} s)`);
  console.log(
    `  hub, no compaction              ${Math.round(hubRate).toLocaleString()} samples/s = ${pctOfRaw(hubRate)} of raw; event loop longest stall ${Math.round(saturatedStall)} ms, p99 ${p99Ms(hubLoop)} ms; latency ${ingestLatency}`,
  );
  console.log(
    `  hub, purge running              ${Math.round(spanRate).toLocaleString()} samples/s = ${pctOfRaw(spanRate)} of raw over the purge's ${((spanEnd - purge.startAt) / 1000).toFixed(0)} s in the run (${Math.round(wholeRate).toLocaleString()}/s = ${pctOfRaw(wholeRate)} over the whole run); event loop longest stall ${Math.round(worst)} ms, p99 ${p99Ms(loop)} ms; latency ${compactingLatency}`,
  );
  console.log(
    `  the purge run                   ${endedIn} (${purgeSeconds.toFixed(0)} s in all) of the run's ${pub.seconds.toFixed(0)} s; CPU per message, this process, raw ${((rawCpu.user + rawCpu.system) / delivered).toFixed(1)} µs (subscriber + broker), no compaction ${((hubCpu.user + hubCpu.system) / stored).toFixed(1)} µs, purge running ${((used.user + used.system) / storedWhileCompacting).toFixed(1)} µs (the writer's thread included); main thread busy ${busy(hubElu)}, ${busy(compactingElu)}`,
  );
}

if (values.compaction) await reportWhileCompacting();
else {
  // 2b. Paced at a fraction of the raw rate, once the saturated run's backlog is stored.
  await drained();
  const pacedRate = Math.round(rawRate * Number(values['paced-fraction']));
  latencies.reset();
  const pacedStoredBefore = hub.ingest.stats.stored;
  const pacedRss0 = process.memoryUsage().rss;
  maxStall = 0;
  lastTick = performance.now();
  const pacedStallTimer = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - lastTick - 50);
    lastTick = now;
  }, 50);
  stop = progress('hub ingest, paced', () => hub.ingest.stats.stored - pacedStoredBefore);
  // Memory is flat when it stops growing while the load goes on: RSS every 10 s of the paced run.
  const pacedRssTrace: number[] = [];
  const pacedHeapTrace: number[] = []; // the main thread's JS heap: tells a JS leak from native caches filling (SQLite's, malloc's)
  const pacedP99Trace: number[] = [];
  windowLatencies.reset();
  const rssTimer = setInterval(() => {
    const memory = process.memoryUsage();
    pacedRssTrace.push(memory.rss);
    pacedHeapTrace.push(memory.heapUsed);
    pacedP99Trace.push(windowLatencies.percentile(99));
    windowLatencies.reset();
  }, 10_000);
  const pacedPub = await runPublisher(url, 'remonitor', ['--rate', String(pacedRate), '--names', 'paced']);
  await new Promise((r) => setTimeout(r, 1000)); // the last batch
  stop();
  clearInterval(pacedStallTimer);
  clearInterval(rssTimer);
  const pacedRss1 = process.memoryUsage().rss;
  const pacedStored = hub.ingest.stats.stored - pacedStoredBefore;
  const pacedLine = `${Math.round(pacedStored / pacedPub.seconds).toLocaleString()} samples/s stored of ${Math.round(pacedPub.published / pacedPub.seconds).toLocaleString()}/s published (${pacedStored.toLocaleString()} of ${pacedPub.published.toLocaleString()}), latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.max} ms`;
  const pacedStall = maxStall;

  // 3. A fleet at 1 Hz that the hub keeps up with: the latency a user sees (not that of a backlog).
  await drained();
  latencies.reset();
  const storedBefore = hub.ingest.stats.stored;
  const fleetStart = Date.now();
  // Per 10 s too: a stretch that spikes (the minute's rollups, a checkpoint) shows as one bad window.
  const fleetP99Trace: number[] = [];
  windowLatencies.reset();
  const fleetWindowTimer = setInterval(() => {
    fleetP99Trace.push(windowLatencies.percentile(99));
    windowLatencies.reset();
  }, 10_000);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repo, 'bin/remonitor.mjs'),
        'simulate',
        '--broker',
        url,
        '--nodes',
        values['fleet-nodes']!,
        '--interval',
        '1s',
        '--duration',
        values['fleet-duration']!,
        '--connections',
        '50',
        '--scenarios',
        'none',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`simulate exited ${code}`))));
  });
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(fleetWindowTimer);
  const fleetRate = (hub.ingest.stats.stored - storedBefore) / ((Date.now() - fleetStart - 1000) / 1000);
  const fleetP50 = pct(0.5);
  const fleetP99 = pct(0.99);

  console.log(
    `hub ingest vs raw broker, ${values.duration} each, 50 publishing connections, ${Number(values.nodes).toLocaleString()} simulated nodes, QoS 1, alarms ${values['no-alarms'] ? 'off' : 'on'}, broker ${values['broker-process'] ? 'in its own process' : "in the hub's process"}`,
  );
  console.log(`  raw broker → plain subscriber   ${Math.round(rawRate).toLocaleString()} msg/s  (${delivered.toLocaleString()} in ${rawSeconds.toFixed(0)} s)`);
  console.log(
    `  broker → hub → SQLite commit    ${Math.round(hubRate).toLocaleString()} samples/s  (${stored.toLocaleString()} stored, ${hub.ingest.stats.rejected} rejected)`,
  );
  console.log(`  ratio hub / raw                 ${((hubRate / rawRate) * 100).toFixed(0)} %`);
  console.log(`  sample → stored latency         ${ingestLatency} (saturated)`);
  console.log(`  paced at ${values['paced-fraction']} × raw (${pacedRate.toLocaleString()}/s)  ${pacedLine}`);
  console.log(`    longest stall ${Math.round(pacedStall)} ms, process RSS ${(pacedRss0 / 2 ** 20).toFixed(0)} MiB → ${(pacedRss1 / 2 ** 20).toFixed(0)} MiB`);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const secondHalf = pacedRssTrace.slice(Math.floor(pacedRssTrace.length / 2));
  const halfGrowth = secondHalf.length > 1 ? secondHalf.at(-1)! - secondHalf[0]! : null;
  console.log(
    `    RSS every 10 s: ${pacedRssTrace.map(mib).join(', ')} MiB; second half ${halfGrowth === null ? 'too short to tell' : `${halfGrowth >= 0 ? '+' : ''}${mib(halfGrowth)} MiB`}`,
  );
  console.log(`    JS heap used every 10 s: ${pacedHeapTrace.map(mib).join(', ')} MiB`);
  console.log(`    p99 latency of each 10 s: ${pacedP99Trace.join(', ')} ms`);
  console.log(
    `  fleet of ${values['fleet-nodes']} nodes at 1 Hz       ${Math.round(fleetRate).toLocaleString()} samples/s stored, latency p50 ${fleetP50} ms, p99 ${fleetP99} ms`,
  );
  console.log(`    p99 latency of each 10 s: ${fleetP99Trace.join(', ')} ms`);
  // CPU time of this process (broker + subscriber, or broker + hub) per message: unlike the rates,
  // it hardly moves when other work shares the machine. The publisher's share says whether it was the limit.
  const cpuPerMessage = (u: NodeJS.CpuUsage, n: number) => `${((u.user + u.system) / n).toFixed(1)} µs`;
  const publisherShare = (p: { seconds: number; cpuSeconds: number }) => `${((p.cpuSeconds / p.seconds) * 100).toFixed(0)} % of a core`;
  console.log(
    `  CPU per message, this process    raw ${cpuPerMessage(rawCpu, delivered)} (subscriber${broker.child ? '' : ' + broker'}), hub ${cpuPerMessage(hubCpu, stored)}`,
  );
  if (broker.child)
    console.log(
      `  CPU per message, broker process  raw ${((rawBrokerCpu * 1e6) / delivered).toFixed(1)} µs, hub ${((hubBrokerCpu * 1e6) / stored).toFixed(1)} µs`,
    );
  console.log(`  load publisher CPU               raw ${publisherShare(rawPub)}, hub ${publisherShare(hubPub)}`);
  console.log(`  longest event-loop stall        ${Math.round(saturatedStall)} ms, p99 ${p99Ms(hubLoop)} ms (saturated); main thread busy ${busy(hubElu)}`);
  console.log(
    `  process RSS                     ${(rss0 / 2 ** 20).toFixed(0)} MiB → ${(rss1 / 2 ** 20).toFixed(0)} MiB (saturated; JS heap ${(mem1.heapUsed / 2 ** 20).toFixed(0)} MiB, buffers ${(mem1.arrayBuffers / 2 ** 20).toFixed(0)} MiB)`,
  );
}
await hub.stop();
await broker.stop();
rmSync(dataDir, { recursive: true, force: true });
