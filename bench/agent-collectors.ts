// What the collectors of labelled values cost the agent: two agents (the bundle, with the node
// flags of the shipped unit) at the same interval, one with every collector on (containers,
// services, storage, the Pi's signals, the clock, a --textfile-dir of 20 metrics and an --exec
// command every 10 s) and one with them off (--disable-collectors, no textfile or exec), beside
// collectd (Debian's collectd-core) with the cpu, memory, swap, df, disk, interface, load and
// processes plugins publishing over MQTT, all at once, to an embedded broker and a hub in this
// process. CPU: utime + stime of each one's process group plus what its leader reaped (the exec
// command, systemctl), from /proc in 10 ms ticks. Memory: the group's VmRSS sum every 250 ms.
// Targets: the agent with its collectors ≤ collectd's CPU per second at 1 s; RSS ≤ 48 MiB.
// Figures only, no asserts.
// Run: node scripts/build.mjs && node scripts/run-ts.mjs bench/agent-collectors.ts [--seconds 60] [--interval 1s]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { HubService } from '../cli/hub-service.ts';
import { parseDuration } from '../protocol/index.ts';
import { createLogger } from '../shared/logger.ts';
import { unitNodeFlags } from './agent-unit.ts';
import { groupCpuMs, groupMembers } from './process-group.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, interval: { type: 'string', default: '1s' }, bundle: { type: 'string' } },
});
const SECONDS = Number(values.seconds);
const INTERVAL_MS = parseDuration(values.interval!);
if (!(SECONDS >= 5)) throw new TypeError(`--seconds must be at least 5, got ${values.seconds}`);
if (INTERVAL_MS === null || INTERVAL_MS < 1000 || INTERVAL_MS % 1000 !== 0) {
  throw new TypeError(`--interval must be whole seconds (collectd's Interval), such as 1s or 10s; got ${values.interval}`);
}
const WARMUP_MS = 15_000; // the agent's start-up (module load, birth record, V8's one memory-reducer compaction) is not its steady state

if (process.platform !== 'linux') {
  console.log('agent-collectors bench: Linux only (it reads /proc)');
  process.exit(0);
}

// run-ts.mjs runs this from dist/, beside the bundle; from the source tree it is in dist/.
const bundle =
  values.bundle ??
  [new URL('remonitor-agent.mjs', import.meta.url).pathname, new URL('../dist/remonitor-agent.mjs', import.meta.url).pathname].find(existsSync);
if (!bundle) throw new Error('no agent bundle: run node scripts/build.mjs first, or pass --bundle');
const haveCollectd = spawnSync('sh', ['-c', 'command -v collectd'], { stdio: 'ignore' }).status === 0;

function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Watched {
  name: string;
  child: ChildProcess;
  rss: number[];
  cpu0: number;
  cpu1: number;
}

// The shipped unit's node flags and Environment= lines, so the agents run as on a Pi.
const unit = unitNodeFlags();
const nodeFlags = unit.flags;

let stopping = false;
function start(name: string, command: string, args: string[], env: Record<string, string> = {}): Watched {
  // detached: a process group of its own, measured and stopped as a whole.
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`agent-collectors bench: ${name} exited early (${code ?? signal}): ${stderr}\n`);
  });
  return { name, child, rss: [], cpu0: 0, cpu1: 0 };
}

const log = createLogger('silent');
const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-collectors-'));
// A hub acknowledges what it stores, as in production; without acks the agents would re-send.
const hub = new HubService({ brokerUrl: url, dataDir: join(dir, 'hub'), httpPort: 0, log, alarms: false });
await hub.start();

const textfiles = join(dir, 'textfile');
mkdirSync(textfiles);
writeFileSync(
  join(textfiles, 'app.prom'),
  `# HELP app_requests_total requests\n# TYPE app_requests_total counter\n${Array.from({ length: 20 }, (_, i) => `app_requests_total{route="/r${i}",code="200"} ${1000 + i}`).join('\n')}\n`,
);
const agentArgs = (node: string, extra: string[]) => [
  ...nodeFlags,
  bundle,
  '--broker',
  url,
  '--node',
  node,
  '--interval',
  values.interval!,
  '--log-level',
  'warn',
  '--spool-dir',
  join(dir, node),
  ...extra,
];
const watched: Watched[] = [
  start(
    'agent, collectors on',
    process.execPath,
    agentArgs('bench-on', [
      '--services',
      'ssh,cron',
      '--textfile-dir',
      textfiles,
      '--exec',
      `q=echo 'queue_depth{queue="a"} 1'; echo 'queue_depth{queue="b"} 2'@10s`,
    ]),
    unit.env,
  ),
  start('agent, collectors off', process.execPath, agentArgs('bench-off', ['--disable-collectors', 'containers,services,storage,smart,pi,clock']), unit.env),
];
if (haveCollectd) {
  const conf = join(dir, 'collectd.conf');
  writeFileSync(
    conf,
    [
      'Hostname "bench-collectd"',
      'FQDNLookup false',
      `Interval ${INTERVAL_MS / 1000}`,
      `BaseDir "${dir}"`,
      `PIDFile "${dir}/collectd.pid"`,
      'PluginDir "/usr/lib/collectd"',
      'TypesDB "/usr/share/collectd/types.db"',
      'LoadPlugin logfile',
      '<Plugin logfile>\n  LogLevel warning\n  File STDERR\n</Plugin>',
      ...['cpu', 'memory', 'swap', 'df', 'disk', 'interface', 'load', 'processes', 'mqtt'].map((p) => `LoadPlugin ${p}`),
      `<Plugin mqtt>\n  <Publish "bench">\n    Host "127.0.0.1"\n    Port "${broker.port}"\n    ClientId "collectd-bench"\n  </Publish>\n</Plugin>`,
    ].join('\n') + '\n',
  );
  watched.push(start('collectd', 'collectd', ['-f', '-C', conf]));
}

console.log(
  `agent-collectors bench: ${SECONDS} s at an interval of ${values.interval}, after ${WARMUP_MS / 1000} s of start-up; host ${process.arch}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores; node flags ${nodeFlags.join(' ') || 'none'}`,
);
if (!haveCollectd) console.log('collectd: not installed (apt-get install collectd-core), so the agents alone');
await sleep(WARMUP_MS);
for (const w of watched) w.cpu0 = groupCpuMs(w.child.pid!);
const t0 = performance.now();
while (performance.now() - t0 < SECONDS * 1000) {
  for (const w of watched) w.rss.push(groupMembers(w.child.pid!).reduce((sum, m) => sum + rssKiB(m.pid), 0) / 1024);
  await sleep(250);
}
for (const w of watched) w.cpu1 = groupCpuMs(w.child.pid!);
const elapsedS = (performance.now() - t0) / 1000;

stopping = true;
for (const w of watched) {
  try {
    process.kill(-w.child.pid!, 'SIGTERM'); // the group this bench started
  } catch {
    // gone
  }
}
await sleep(1500);
for (const w of watched) {
  try {
    process.kill(-w.child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}
// What the collectors-on agent sent, from the hub's store: its newest sample's labelled values.
const labelled = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/nodes/bench-on/labelled`)).json().catch(() => null)) as {
  metrics?: { name: string; labels: unknown[] }[];
} | null;
await hub.stop();
await broker.stop();
rmSync(dir, { recursive: true, force: true });

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const rows: [string, (w: Watched) => number, number][] = [
  ['CPU, % of one core', (w) => ((w.cpu1 - w.cpu0) / (elapsedS * 1000)) * 100, 2],
  ['CPU ms per second', (w) => (w.cpu1 - w.cpu0) / elapsedS, 2],
  ['RSS, MiB (mean)', (w) => mean(w.rss), 1],
  ['RSS, MiB (max)', (w) => max(w.rss), 1],
];
const cell = (s: string) => s.padStart(24);
console.log(`\n${''.padEnd(22)}${watched.map((w) => cell(w.name)).join('')}`);
for (const [label, value, digits] of rows) console.log(`${label.padEnd(22)}${watched.map((w) => cell(value(w).toFixed(digits))).join('')}`);
const [on, off, collectd] = watched;
if (collectd)
  console.log(
    `\nCPU, collectors on / collectd: ${((on!.cpu1 - on!.cpu0) / (collectd.cpu1 - collectd.cpu0)).toFixed(2)}×; collectors on / off: ${((on!.cpu1 - on!.cpu0) / (off!.cpu1 - off!.cpu0)).toFixed(2)}×`,
  );
if (labelled?.metrics) console.log(`collectors-on agent's newest sample: ${labelled.metrics.map((m) => `${m.name}×${m.labels.length}`).join(', ')}`);
