// What the agent without Node.js (deploy/remonitor-agent.sh under busybox ash, publishing through
// one mosquitto_pub) costs its host, beside collectd (Debian's collectd-core) reading the same
// things (cpu, load, memory, swap, df, disk, interface, thermal, uptime) and publishing them over
// MQTT, both at the same interval, at the same time, to an embedded broker in this process.
// CPU: utime + stime of every process of each one's process group, plus what the shell reaped from
// its short-lived children (df, the status publisher: cutime + cstime), from /proc in 10 ms ticks.
// Memory: the sum of VmRSS over the group every 250 ms (shared pages counted once per process, as
// `ps` does), and the sum of Pss (shared pages split between their users), mean and max.
// Figures only, no asserts.
// Run: node scripts/run-ts.mjs bench/shell-agent.ts [--seconds 60] [--interval 1s]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { parseDuration } from '../protocol/index.ts';
import { createLogger } from '../shared/logger.ts';
import { groupCpuMs, groupMembers } from './process-group.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, interval: { type: 'string', default: '1s' } } });
const SECONDS = Number(values.seconds);
const INTERVAL_MS = parseDuration(values.interval);
if (!(SECONDS >= 5)) throw new TypeError(`--seconds must be at least 5, got ${values.seconds}`);
if (INTERVAL_MS === null || INTERVAL_MS < 1000 || INTERVAL_MS % 1000 !== 0) {
  throw new TypeError(`--interval must be whole seconds (collectd's Interval), such as 1s or 10s; got ${values.interval}`);
}
const WARMUP_MS = 3000;
const SCRIPT = new URL('../deploy/remonitor-agent.sh', import.meta.url).pathname;

if (process.platform !== 'linux') {
  console.log('shell-agent bench: Linux only (it reads /proc)');
  process.exit(0);
}

/** Installs a Debian package when missing and this runs as root with apt, as CI does. */
function ensure(binary: string, pkg: string): boolean {
  const present = () => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
  if (present() || process.getuid?.() !== 0) return present();
  process.stderr.write(`shell-agent bench: installing ${pkg} with apt-get…\n`);
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 300_000,
  });
  return present();
}
for (const [binary, pkg] of [
  ['busybox', 'busybox'],
  ['mosquitto_pub', 'mosquitto-clients'],
] as const) {
  if (!ensure(binary, pkg)) throw new Error(`${binary} is missing: apt-get install ${pkg}`);
}
const haveCollectd = ensure('collectd', 'collectd-core');

function kib(path: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface Watched {
  name: string;
  child: ChildProcess;
  rss: number[];
  pss: number[];
  processes: number[];
  cpu0: number;
  cpu1: number;
}

function sampleMemory(w: Watched): void {
  const members = groupMembers(w.child.pid!);
  let rss = 0;
  let pss = 0;
  for (const m of members) {
    rss += kib(`/proc/${m.pid}/status`, 'VmRSS');
    pss += kib(`/proc/${m.pid}/smaps_rollup`, 'Pss');
  }
  w.rss.push(rss / 1024);
  w.pss.push(pss / 1024);
  w.processes.push(members.length);
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Watched {
  // detached: a process group of its own, measured and stopped as a whole.
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`shell-agent bench: ${name} exited early (${code ?? signal}): ${stderr}\n`);
  });
  return { name, child, rss: [], pss: [], processes: [], cpu0: 0, cpu1: 0 };
}

let stopping = false;
const log = createLogger('silent');
const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-shell-'));

const watched: Watched[] = [];
watched.push(
  start('shell agent', 'busybox', ['sh', SCRIPT, '--broker', `mqtt://127.0.0.1:${broker.port}`, '--node', 'bench-shell', '--interval', values.interval!]),
);
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
      // What the shell agent reads, and MQTT out as it does (collectd's defaults otherwise).
      ...['cpu', 'load', 'memory', 'swap', 'df', 'disk', 'interface', 'thermal', 'uptime', 'mqtt'].map((p) => `LoadPlugin ${p}`),
      `<Plugin mqtt>\n  <Publish "bench">\n    Host "127.0.0.1"\n    Port "${broker.port}"\n    ClientId "collectd-bench"\n  </Publish>\n</Plugin>`,
    ].join('\n') + '\n',
  );
  watched.push(start('collectd', 'collectd', ['-f', '-C', conf]));
}

let messages = { shell: 0, collectd: 0 };
await broker.subscribeLocal('#', (topic, _payload, done) => {
  if (topic.startsWith('remonitor/bench-shell/json')) messages.shell++;
  else if (topic.startsWith('collectd/')) messages.collectd++;
  done();
});

console.log(
  `shell-agent bench: ${SECONDS} s at an interval of ${values.interval}, after ${WARMUP_MS / 1000} s of warm-up; host ${process.arch}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores`,
);
if (!haveCollectd) console.log('collectd: not installed (apt-get install collectd-core), so the shell agent alone');
await sleep(WARMUP_MS);
for (const w of watched) w.cpu0 = groupCpuMs(w.child.pid!);
messages = { shell: 0, collectd: 0 };
const t0 = performance.now();
while (performance.now() - t0 < SECONDS * 1000) {
  for (const w of watched) sampleMemory(w);
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
await sleep(1000);
for (const w of watched) {
  try {
    process.kill(-w.child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}
await broker.stop();
rmSync(dir, { recursive: true, force: true });

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const samples = elapsedS / (INTERVAL_MS / 1000);
const rows: [string, (w: Watched) => number, number][] = [
  ['CPU, % of one core', (w) => ((w.cpu1 - w.cpu0) / (elapsedS * 1000)) * 100, 2],
  ['CPU ms per interval', (w) => (w.cpu1 - w.cpu0) / samples, 2],
  ['RSS sum, MiB (mean)', (w) => mean(w.rss), 2],
  ['RSS sum, MiB (max)', (w) => max(w.rss), 2],
  ['PSS sum, MiB (mean)', (w) => mean(w.pss), 2],
  ['PSS sum, MiB (max)', (w) => max(w.pss), 2],
  ['processes (mean)', (w) => mean(w.processes), 1],
];
const [shell, collectd] = watched;
const cell = (s: string) => s.padStart(16);
console.log(`\n${''.padEnd(24)}${cell('shell agent')}${collectd ? cell('collectd') + cell('shell/collectd') : ''}`);
for (const [label, value, digits] of rows) {
  const a = value(shell!);
  const b = collectd ? value(collectd) : NaN;
  console.log(`${label.padEnd(24)}${cell(a.toFixed(digits))}${collectd ? cell(b.toFixed(digits)) + cell(b > 0 ? `${(a / b).toFixed(2)}×` : '-') : ''}`);
}
console.log(
  `\nMQTT messages in the measured ${elapsedS.toFixed(0)} s: shell agent ${messages.shell} (one JSON sample each), collectd ${messages.collectd} (one value each)`,
);
console.log('RSS counts the pages two processes share (libc) once for each; PSS splits them, so its sum is what the group costs the machine.');
