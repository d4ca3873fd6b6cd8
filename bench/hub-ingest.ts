// Hub ingest against the broker's own limit, in one run: first the raw QoS 1 pub/sub rate of the
// embedded broker to a plain subscriber, then the same load through the hub (decode, SQLite commit
// in batches with rollups), with sample-to-stored latency and the hub's memory. Figures only.
// Run: node scripts/run-ts.mjs bench/hub-ingest.ts [--duration 60s]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../edge-agent/logger.ts';
import { HubService } from '../hub/hub-service.ts';

const { values } = parseArgs({
  options: { 'no-alarms': { type: 'boolean', default: false }, duration: { type: 'string', default: '60s' }, 'fleet-nodes': { type: 'string', default: '5000' }, 'fleet-duration': { type: 'string', default: '30s' } },
});
const log = createLogger('silent');
const here = new URL('.', import.meta.url).pathname; // dist/, where scripts/run-ts.mjs put this bundle
const repo = join(here, '..');

function runPublisher(url: string, root: string): Promise<{ published: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'scripts/run-ts.mjs'), join(repo, 'bench/load-publisher.ts'), '--broker', url, '--root', root, '--duration', values.duration!], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`publisher exited ${code}`))));
  });
}

function progress(label: string, count: () => number): () => void {
  const start = Date.now();
  const timer = setInterval(() => process.stderr.write(`  ${label}: ${Math.round((Date.now() - start) / 1000)} s, ${count().toLocaleString()} messages\n`), 10_000);
  return () => clearInterval(timer);
}

const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;

// 1. Raw broker rate: a subscriber that only counts.
const sub = await mqtt.connectAsync(url, { protocolVersion: 4 });
let delivered = 0;
sub.on('message', () => delivered++);
await sub.subscribeAsync('bench/+/metrics', { qos: 1 });
let stop = progress('raw broker', () => delivered);
const rawStart = Date.now();
const rawPub = await runPublisher(url, 'bench');
const rawSeconds = (Date.now() - rawStart) / 1000;
stop();
await sub.endAsync();
const rawRate = delivered / rawPub.seconds;

// 2. The hub: decode, validate, store, rollups.
const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-ingest-'));
// Alarms evaluate every stored sample in the same process; --no-alarms measures ingest alone.
const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log, ...(values['no-alarms'] ? { alarms: false as const } : {}) });
await hub.start();
const latencies: number[] = [];
hub.feed.subscribe((e) => {
  if (e.type === 'sample' && latencies.length < 2_000_000) latencies.push(Date.now() - e.point.ts_ms);
});
const rss0 = process.memoryUsage().rss;
stop = progress('hub ingest', () => hub.ingest.stats.stored);
let maxStall = 0;
let lastTick = performance.now();
const stallTimer = setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - lastTick - 50);
  lastTick = now;
}, 50);
const hubPub = await runPublisher(url, 'remonitor');
await new Promise((r) => setTimeout(r, 1000)); // the last batch
stop();
clearInterval(stallTimer);
const rss1 = process.memoryUsage().rss;
const stored = hub.ingest.stats.stored;
const hubRate = stored / hubPub.seconds;
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;

const ingestLatency = `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1)} ms`;

// 3. A fleet at 1 Hz that the hub keeps up with: the latency a user sees.
latencies.length = 0;
const storedBefore = hub.ingest.stats.stored;
const fleetStart = Date.now();
await new Promise<void>((resolve, reject) => {
  const child = spawn(process.execPath, [join(repo, 'bin/remonitor.mjs'), 'simulate', '--broker', url, '--nodes', values['fleet-nodes']!, '--interval', '1s', '--duration', values['fleet-duration']!, '--connections', '50'], { stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`simulate exited ${code}`))));
});
await new Promise((r) => setTimeout(r, 1000));
const fleetRate = (hub.ingest.stats.stored - storedBefore) / ((Date.now() - fleetStart - 1000) / 1000);
latencies.sort((a, b) => a - b);
const fleetP50 = pct(0.5);
const fleetP99 = pct(0.99);

console.log(`hub ingest vs raw broker, ${values.duration} each, 50 publishing connections, 1,000 simulated nodes, QoS 1, alarms ${values['no-alarms'] ? 'off' : 'on'}`);
console.log(`  raw broker → plain subscriber   ${Math.round(rawRate).toLocaleString()} msg/s  (${delivered.toLocaleString()} in ${rawSeconds.toFixed(0)} s)`);
console.log(`  broker → hub → SQLite commit    ${Math.round(hubRate).toLocaleString()} samples/s  (${stored.toLocaleString()} stored, ${hub.ingest.stats.rejected} rejected)`);
console.log(`  ratio hub / raw                 ${((hubRate / rawRate) * 100).toFixed(0)} %`);
console.log(`  sample → stored latency         ${ingestLatency} (saturated)`);
console.log(`  fleet of ${values['fleet-nodes']} nodes at 1 Hz       ${Math.round(fleetRate).toLocaleString()} samples/s stored, latency p50 ${fleetP50} ms, p99 ${fleetP99} ms`);
console.log(`  longest event-loop stall        ${Math.round(maxStall)} ms`);
console.log(`  process RSS                     ${(rss0 / 2 ** 20).toFixed(0)} MiB → ${(rss1 / 2 ** 20).toFixed(0)} MiB`);
await hub.stop();
await broker.stop();
rmSync(dataDir, { recursive: true, force: true });
