// The agent as it runs on a node: the single-file bundle publishing to a real broker at 1 s with
// the process list every 5 s, for a minute. Prints its CPU time per sample and its RSS, next to
// an idle `node` process started in the same run as the reference for memory. Figures only.
// Run: node scripts/run-ts.mjs bench/agent-process.ts [--duration 60s] [--interval 1s]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../edge-agent/logger.ts';
import { HubService } from '../hub/hub-service.ts';
import { parseDuration, topics } from '../protocol/index.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '60s' }, interval: { type: 'string', default: '1s' } } });
const durationMs = parseDuration(values.duration);
const intervalMs = parseDuration(values.interval);
if (!durationMs || !intervalMs) throw new TypeError(`--duration and --interval take durations like 60s, got ${values.duration} and ${values.interval}`);

const TICK_MS = 10; // /proc/<pid>/stat counts CPU in USER_HZ ticks, 100 per second
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
  return (f[11]! + f[12]!) * TICK_MS; // utime + stime
};
const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const log = createLogger('silent');
const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
// A hub acknowledges what it stores, as in production; without acks the agent would re-send.
const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-hub-'));
const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log, alarms: false });
await hub.start();
const sub = await connectAsync(url, { protocolVersion: 4 });
let samples = 0;
let bytes = 0;
sub.on('message', (_t, payload) => {
  samples++;
  bytes += payload.length;
});
await sub.subscribeAsync(topics.metrics('bench-agent'), { qos: 1 });

const bundle = new URL('remonitor-agent.mjs', import.meta.url).pathname; // this script runs from dist/ (scripts/run-ts.mjs)
const children: ChildProcess[] = [];
const start = (args: string[]) => {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
};
// A fresh spool, so that no backlog of an earlier run is replayed and counted.
const spoolDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-spool-'));
const agent = start([bundle, '--broker', url, '--node', 'bench-agent', '--interval', values.interval, '--log-level', 'warn', '--spool-dir', spoolDir]);
const idle = start(['-e', 'setInterval(() => {}, 1000)']);

try {
  await sleep(3000); // start-up (module load, birth record) is not the steady state
  const cpu0 = cpuMs(agent.pid!);
  const samples0 = samples;
  const started = Date.now();
  let nextReport = started + 10_000;
  while (Date.now() - started < durationMs) {
    await sleep(500);
    if (Date.now() >= nextReport) {
      process.stderr.write(`  … ${Math.round((Date.now() - started) / 1000)} s, ${samples - samples0} samples\n`);
      nextReport += 10_000;
    }
  }
  const cpuPerSample = (cpuMs(agent.pid!) - cpu0) / Math.max(1, samples - samples0);
  const agentRss = rssMiB(agent.pid!);
  const idleRss = rssMiB(idle.pid!);
  console.log(`agent bundle at ${values.interval} for ${values.duration} (process list every 5 s)`);
  console.log(`  samples received        ${samples - samples0} (stored by the hub: ${hub.ingest.stats.stored})`);
  console.log(`  CPU per sample          ${cpuPerSample.toFixed(2)} ms  (/proc ticks are 10 ms: ± ${(10 / Math.max(1, samples - samples0)).toFixed(2)} ms)`);
  console.log(`  CPU share of one core   ${((cpuPerSample / intervalMs) * 100).toFixed(2)} %`);
  console.log(`  mean sample size        ${Math.round(bytes / Math.max(1, samples))} bytes`);
  console.log(`  RSS                     ${agentRss.toFixed(1)} MiB  (idle node process in the same run: ${idleRss.toFixed(1)} MiB, ratio ${(agentRss / idleRss).toFixed(2)})`);
} finally {
  await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
  rmSync(spoolDir, { recursive: true, force: true });
  await hub.stop();
  rmSync(dataDir, { recursive: true, force: true });
  await sub.endAsync();
  await broker.stop();
}
