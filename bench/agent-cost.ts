// What sampling costs the agent's host: CPU per read of the Linux sampler (direct /proc reads)
// against the systeminformation sampler (spawns df, ps, lsblk…), taken in turns in one run, with
// the process list in 1 read of 5 as the agent does; and, in the same rounds, the CPU per scrape
// of prometheus-node-exporter when it is installed, for scale. Then the agent bundle itself, as the
// shipped unit runs it (its ExecStart flags), publishing at 1 s to a broker and hub in this process:
// CPU ms a second, RSS (median and max of one reading a second), block-device writes (/proc/<pid>/io write_bytes) and fsync/fdatasync calls a
// second (strace -c, attached after the CPU window so it does not weigh on it), for one bundle or
// several side by side in one run (--bundle before=OLD.mjs --bundle after=dist/remonitor-agent.mjs,
// e.g. OLD.mjs built in a `git worktree` of the commit before), each run as its unit runs it: its
// ExecStart flags and Environment= lines (deploy/remonitor-agent.service, or --unit NAME=FILE, e.g.
// the unit of the commit before), under the file name its ExecStart gives (remonitor-agent.cjs runs
// as CommonJS). Figures only, no asserts.
// Run: node scripts/run-ts.mjs bench/agent-cost.ts [--iterations 60] [--pace-ms 200]
//        [--bundle NAME=PATH]… [--unit NAME=UNIT_FILE]… [--bundle-seconds 60]
//        (no --bundle: dist/remonitor-agent.mjs alone; --bundle-seconds 0: none)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { HubService } from '../cli/hub-service.ts';
import { createLogger } from '../shared/logger.ts';
import { encodeSample } from '../protocol/index.ts';
import { createLinuxSampler } from '../edge-agent/linux-sampler.ts';
import type { Reading, Sampler } from '../edge-agent/sampler.ts';
import { createSystemInformationSampler } from '../edge-agent/si-sampler.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '60' },
    'pace-ms': { type: 'string', default: '200' },
    bundle: { type: 'string', multiple: true, default: [] },
    unit: { type: 'string', multiple: true, default: [] },
    'bundle-seconds': { type: 'string', default: '60' },
  },
});
const ITERATIONS = Number(values.iterations);
const PACE_MS = Number(values['pace-ms']);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1) throw new TypeError(`--iterations must be a positive integer, got ${values.iterations}`);
if (!(PACE_MS >= 0)) throw new TypeError(`--pace-ms must be a number of ms ≥ 0, got ${values['pace-ms']}`);
const BUNDLE_SECONDS = Number(values['bundle-seconds']);
if (!(BUNDLE_SECONDS >= 0)) throw new TypeError(`--bundle-seconds must be a number of seconds ≥ 0, got ${values['bundle-seconds']}`);
const BUNDLES = (values.bundle.length > 0 ? values.bundle : [`now=${new URL('remonitor-agent.mjs', import.meta.url).pathname}`]).map((spec) => {
  const at = spec.indexOf('=');
  if (at < 1) throw new TypeError(`--bundle takes NAME=PATH, got ${spec}`);
  return { name: spec.slice(0, at), path: spec.slice(at + 1) };
});
const UNITS = new Map(
  values.unit.map((spec) => {
    const at = spec.indexOf('=');
    if (at < 1) throw new TypeError(`--unit takes NAME=UNIT_FILE, got ${spec}`);
    if (!BUNDLES.some((b) => b.name === spec.slice(0, at))) throw new TypeError(`--unit ${spec}: no --bundle is named ${spec.slice(0, at)}`);
    return [spec.slice(0, at), spec.slice(at + 1)];
  }),
);
const WARMUP = 5;
const TICK_MS = 10; // /proc times are in USER_HZ ticks, 100 per second

if (process.platform !== 'linux') {
  console.log('agent-cost: Linux only (it reads /proc for child-process CPU and compares with the Linux sampler)');
  process.exit(0);
}

/** utime + stime (own) and cutime + cstime (reaped children) of a process, in ms, from /proc/<pid>/stat. */
function procCpuMs(pid: number | 'self'): { own: number; children: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // fields 14–17 of proc(5); index 0 here is field 3
  return { own: (f[11]! + f[12]!) * TICK_MS, children: (f[13]! + f[14]!) * TICK_MS };
}

function rssMiB(pid: number | 'self'): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const p95 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!;

interface Cost {
  name: string;
  sampler: Sampler;
  /** own CPU (process.cpuUsage, µs resolution) + reaped children's (10 ms ticks), ms, per read */
  perRead: number[];
  plain: number[];
  withProcesses: number[];
  childrenMs: number;
  wallMs: number[];
  lastFull?: Reading;
  lastPlain?: Reading;
}

const cost = (name: string, sampler: Sampler): Cost => ({ name, sampler, perRead: [], plain: [], withProcesses: [], childrenMs: 0, wallMs: [] });

/** One read, measured. Reads are awaited one at a time, so the CPU between the marks is this read's. */
async function measuredRead(c: Cost, processes: boolean): Promise<void> {
  const children0 = procCpuMs('self').children;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const reading = await c.sampler.read({ processes });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const children = procCpuMs('self').children - children0;
  const ms = (cpu.user + cpu.system) / 1000 + children;
  c.perRead.push(ms);
  (processes ? c.withProcesses : c.plain).push(ms);
  c.childrenMs += children;
  c.wallMs.push(wall);
  if (processes) c.lastFull = reading;
  else c.lastPlain = reading;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

function onPath(cmd: string): Promise<string | undefined> {
  return new Promise((ok) => {
    const child = spawn('sh', ['-c', `command -v ${cmd}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => ok(code === 0 ? out.trim() : undefined));
    child.on('error', () => ok(undefined));
  });
}

interface Exporter {
  bin: string;
  pid: number;
  scrape: () => Promise<number>;
  stop: () => Promise<void>;
}

/** Starts node_exporter on a free loopback port and waits until it answers. */
async function startNodeExporter(bin: string): Promise<Exporter> {
  const port = await freePort();
  const child = spawn(bin, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM'); // by its pid: the process this bench started
    await Promise.race([exited, sleep(5000)]);
  };
  const url = `http://127.0.0.1:${port}/metrics`;
  const scrape = async (): Promise<number> => (await (await fetch(url)).text()).length;
  let ready = false;
  for (let i = 0; i < 100 && !ready && child.exitCode === null && child.pid !== undefined; i++) {
    ready = await scrape().then(
      () => true,
      () => false,
    );
    if (!ready) await sleep(100);
  }
  if (!ready || child.pid === undefined) {
    await stop();
    throw new Error(`${bin} did not answer on 127.0.0.1:${port}: ${stderr.trim() || 'no output'}`);
  }
  return { bin, pid: child.pid, scrape, stop };
}

const sampleBytes = (r: Reading | undefined): number => (r ? encodeSample({ v: 1, boot: 'bench0000000', seq: 1, ts_ms: Date.now(), ...r }).length : 0);

/** The comparison needs Debian's node_exporter: install it when this runs as root with apt, as CI does. */
async function ensureNodeExporter(): Promise<string | undefined> {
  const found = await onPath('prometheus-node-exporter');
  if (found !== undefined || process.getuid?.() !== 0 || (await onPath('apt-get')) === undefined) return found;
  process.stderr.write('agent-cost: installing prometheus-node-exporter with apt-get…\n');
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus-node-exporter'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 180_000,
  });
  return onPath('prometheus-node-exporter');
}

const exporterBin = await ensureNodeExporter();
let exporter: Exporter | undefined;
let exporterProblem = exporterBin === undefined ? 'not installed, and apt-get could not install prometheus-node-exporter here' : undefined;
if (exporterBin !== undefined) {
  exporter = await startNodeExporter(exporterBin).catch((err: Error) => {
    exporterProblem = err.message;
    return undefined;
  });
}

console.log(`agent-cost: ${ITERATIONS} rounds, one every ${PACE_MS} ms, after ${WARMUP} warm-up rounds; each round reads the`);
console.log(`Linux sampler, then the systeminformation sampler${exporter ? ', then scrapes node_exporter' : ''}; the process list in 1 read of 5.`);
console.log(`host: ${process.arch}, Node ${process.version}\n`);

const linux = cost('linux (/proc)', createLinuxSampler());
const siCost = cost('systeminformation', createSystemInformationSampler());
let exporterCpu0 = 0;
let exporterBytes = 0;
for (let i = -WARMUP; i < ITERATIONS; i++) {
  const processes = i % 5 === 0;
  if (i === 0) {
    for (const c of [linux, siCost]) Object.assign(c, cost(c.name, c.sampler)); // forget the warm-up
    if (exporter) exporterCpu0 = procCpuMs(exporter.pid).own;
  }
  await measuredRead(linux, processes);
  await measuredRead(siCost, processes);
  if (exporter) {
    const bytes = await exporter.scrape();
    if (i >= 0) exporterBytes += bytes;
  }
  await sleep(PACE_MS);
}
const exporterCpuMs = exporter ? procCpuMs(exporter.pid).own - exporterCpu0 : 0;
const exporterRss = exporter ? rssMiB(exporter.pid) : 0;
await exporter?.stop();

const f = (n: number): string => n.toFixed(2).padStart(7);
console.log('sampler              CPU ms per read:  mean     p95  no-procs  w/ procs  (children) | wall ms | share of a core at 1 read/s');
for (const c of [linux, siCost]) {
  console.log(
    `${c.name.padEnd(36)}${f(mean(c.perRead))} ${f(p95(c.perRead))}   ${f(mean(c.plain))}   ${f(mean(c.withProcesses))}   ${f(c.childrenMs / ITERATIONS)}   | ${f(mean(c.wallMs))} | ${(mean(c.perRead) / 10).toFixed(2)} %`,
  );
}
console.log(
  `ratio systeminformation / linux, mean CPU per read: ${(mean(siCost.perRead) / mean(linux.perRead)).toFixed(1)}× ` +
    `(no-procs ${(mean(siCost.plain) / mean(linux.plain)).toFixed(1)}×, with procs ${(mean(siCost.withProcesses) / mean(linux.withProcesses)).toFixed(1)}×)`,
);
console.log('(children: CPU of the helpers systeminformation spawns (df, ps, lsblk, sh), from cutime + cstime in 10 ms ticks)');
console.log(`RSS of this process: ${rssMiB('self').toFixed(1)} MiB (both samplers, systeminformation and the esbuild runner loaded)`);
console.log(`encoded sample from the linux sampler: ${sampleBytes(linux.lastPlain)} bytes without the process list, ${sampleBytes(linux.lastFull)} with it`);
if (exporter) {
  const perScrape = exporterCpuMs / ITERATIONS;
  console.log(
    `node_exporter (${exporter.bin}): ${perScrape.toFixed(2)} ms CPU per /metrics scrape (its utime + stime in 10 ms ticks over ` +
      `${ITERATIONS} scrapes, idle time between them included), RSS ${exporterRss.toFixed(1)} MiB, ${Math.round(exporterBytes / ITERATIONS / 1024)} KiB of text per scrape; ` +
      `${(perScrape / mean(linux.perRead)).toFixed(1)}× the linux sampler's read`,
  );
} else {
  console.log(`node_exporter: ${exporterProblem}`);
}

// ---- The agent bundle as the unit runs it ----

interface UnitRun {
  /** node flags between `node` and the bundle in ExecStart */
  flags: string[];
  /** the bundle's file name in ExecStart: its extension decides how Node loads it */
  bundleName: string;
  /** Environment= lines */
  env: Record<string, string>;
}

/** How a unit file runs the agent: its ExecStart flags, the bundle's file name and its Environment= lines. */
function unitRun(file: string = new URL('../deploy/remonitor-agent.service', import.meta.url).pathname): UnitRun {
  const unit = readFileSync(file, 'utf8');
  const argv = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ');
  if (!argv) throw new Error(`${file}: no ExecStart line`);
  const at = argv.findIndex((a) => /remonitor-agent\.[cm]?js$/.test(a));
  if (at < 0) throw new Error(`${file}: ExecStart runs no remonitor-agent bundle`);
  const env = Object.fromEntries([...unit.matchAll(/^Environment=(\S+?)=(\S*)$/gm)].map((m) => [m[1]!, m[2]!] as const));
  return { flags: argv.slice(1, at), bundleName: basename(argv[at]!), env };
}

/** CPU of all of a process's threads, ms (schedstat: ns on CPU). */
const threadsCpuMs = (pid: number): number =>
  readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6, 0);
/** Bytes this process caused to be written to a block device (page-cache pages it dirtied), proc(5). */
const writeBytes = (pid: number): number => Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);

/** fsync + fdatasync calls of `pid` over `seconds`, by strace -c; undefined without strace. */
async function countSyncs(pid: number, seconds: number): Promise<number | undefined> {
  if ((await onPath('strace')) === undefined) return undefined;
  const child = spawn('strace', ['-c', '-f', '-e', 'trace=fsync,fdatasync', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  child.stderr.on('data', (d: Buffer) => (report += d.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  await sleep(seconds * 1000);
  child.kill('SIGINT'); // strace prints its summary and detaches
  await Promise.race([exited, sleep(5000)]);
  // Summary rows: % time, seconds, usecs/call, calls, [errors,] syscall
  return [...report.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

if (BUNDLE_SECONDS > 0) {
  const runs = new Map(BUNDLES.map((b) => [b.name, unitRun(UNITS.get(b.name))]));
  const silent = createLogger('silent');
  const broker = new EmbeddedBroker({ port: 0, log: silent });
  await broker.start();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  // A hub that acknowledges what it stores, as in production: the agent frees its spool on its acks.
  const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-hub-'));
  const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: silent, alarms: false });
  await hub.start();
  const spoolRoot = mkdtempSync(join(tmpdir(), 'remonitor-bench-spool-'));
  const agents: { name: string; path: string; child: ChildProcess }[] = BUNDLES.map(({ name, path }) => {
    const run = runs.get(name)!;
    // Under the unit's file name, which tells Node whether it is CommonJS or an ES module.
    const installed = join(spoolRoot, 'opt', name, run.bundleName);
    mkdirSync(join(spoolRoot, 'opt', name), { recursive: true });
    copyFileSync(path, installed);
    return {
      name,
      path,
      // The spool on the disk (tmpdir), as the unit's StateDirectory is; RAM for the live tail as the unit's RuntimeDirectory.
      child: spawn(
        process.execPath,
        [...run.flags, installed, '--broker', url, '--node', `cost-${name}`, '--interval', '1s', '--log-level', 'warn', '--spool-dir', join(spoolRoot, name)],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...run.env } },
      ),
    };
  });
  try {
    const WARMUP_S = 15; // module load, birth record, V8's one-off memory reducer (bench/agent-process.ts)
    console.log('\nagent bundles as their units run them, 1 sample a second to a hub in this process:');
    for (const [name, run] of runs) {
      const env = Object.entries(run.env).map(([k, v]) => `${k}=${v} `);
      console.log(`  ${name}: ${env.join('')}node ${run.flags.join(' ')} ${run.bundleName}`);
    }
    console.log(
      `after ${WARMUP_S} s: CPU and disk writes over ${BUNDLE_SECONDS} s, then fsync/fdatasync counted by strace over ${Math.min(BUNDLE_SECONDS, 30)} s`,
    );
    await sleep(WARMUP_S * 1000);
    const start = agents.map((a) => ({ cpu: threadsCpuMs(a.child.pid!), written: writeBytes(a.child.pid!) }));
    const t0 = performance.now();
    // RSS once a second through the window: V8 grows and trims its heap as it goes, so one reading could fall anywhere.
    const rssSeries: number[][] = agents.map(() => []);
    for (let s = 0; s < BUNDLE_SECONDS; s++) {
      await sleep(Math.max(0, t0 + (s + 1) * 1000 - performance.now()));
      agents.forEach((a, i) => rssSeries[i]!.push(rssMiB(a.child.pid!)));
    }
    const seconds = (performance.now() - t0) / 1000;
    const window = agents.map((a, i) => ({
      cpu: (threadsCpuMs(a.child.pid!) - start[i]!.cpu) / seconds,
      written: (writeBytes(a.child.pid!) - start[i]!.written) / seconds,
    }));
    const syncSeconds = Math.min(BUNDLE_SECONDS, 30);
    const syncs = await Promise.all(agents.map((a) => countSyncs(a.child.pid!, syncSeconds)));
    const rows = agents.map((a, i) => ({
      name: a.name,
      cpu: window[i]!.cpu.toFixed(2),
      rssMedian: median(rssSeries[i]!).toFixed(1),
      rssMax: Math.max(...rssSeries[i]!).toFixed(1),
      written: window[i]!.written.toFixed(0),
      syncs: syncs[i] === undefined ? 'n/a (no strace)' : (syncs[i]! / syncSeconds).toFixed(2),
    }));
    const w = Math.max(6, ...agents.map((a) => a.name.length));
    console.log(`${'bundle'.padEnd(w)}  CPU ms/s   RSS MiB median    max   block writes B/s   fsync+fdatasync /s`);
    for (const r of rows)
      console.log(
        `${r.name.padEnd(w)}  ${r.cpu.padStart(8)}   ${r.rssMedian.padStart(14)}  ${r.rssMax.padStart(5)}   ${r.written.padStart(16)}   ${r.syncs.padStart(18)}`,
      );
    for (const a of agents) console.log(`  ${a.name}: ${a.path}`);
    console.log(`stored by the hub: ${hub.ingest.stats.stored} samples`);
  } finally {
    await Promise.all(agents.map((a) => (a.child.exitCode !== null ? undefined : new Promise((ok) => (a.child.once('exit', ok), a.child.kill('SIGTERM'))))));
    await hub.stop();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(spoolRoot, { recursive: true, force: true });
  }
}
