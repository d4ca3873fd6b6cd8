// What the agent without Node.js (deploy/remonitor-agent.sh under busybox ash, publishing through
// one mosquitto_pub) costs its host, beside collectd (Debian's collectd-core) reading the same
// things (cpu, load, memory, swap, df, disk, interface, thermal, uptime) and publishing them over
// MQTT, both at the same interval, at the same time, to an embedded broker in this process.
// CPU: the time on CPU of every thread of each one's process group (schedstat, ns), plus what they
// reaped of short-lived children (df, the status publisher: cutime + cstime, in 10 ms ticks).
// Memory, every 250 ms over the group: the sum of RSS (shared pages counted once per process, as
// `ps` does), the sum of PSS (shared pages split between all their users), and, as root, the union
// of the group's resident pages (each physical page once: what the group occupies), every 2 s.
// Then what each process holds (smaps_rollup, and its largest mappings). Figures only, no asserts.
// Run: node scripts/run-ts.mjs bench/shell-agent.ts [--seconds 60] [--interval 1s]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { parseDuration } from '../protocol/index.ts';
import { createLogger } from '../shared/logger.ts';
import {
  describeProcesses,
  ensureInstalled,
  figure,
  max,
  mean,
  measure,
  startGroup,
  stopGroups,
  writeCollectdConf,
  type WatchedGroup,
} from './watched-group.ts';

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

for (const [binary, pkg] of [
  ['busybox', 'busybox'],
  ['mosquitto_pub', 'mosquitto-clients'],
] as const) {
  if (!ensureInstalled(binary, pkg, 'shell-agent bench')) throw new Error(`${binary} is missing: apt-get install ${pkg}`);
}
const haveCollectd = ensureInstalled('collectd', 'collectd-core', 'shell-agent bench');

const log = createLogger('silent');
const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-shell-'));

const watched: WatchedGroup[] = [
  startGroup('shell agent', 'busybox', ['sh', SCRIPT, '--broker', `mqtt://127.0.0.1:${broker.port}`, '--node', 'bench-shell', '--interval', values.interval!]),
];
if (haveCollectd) watched.push(startGroup('collectd', 'collectd', ['-f', '-C', writeCollectdConf(dir, INTERVAL_MS / 1000, broker.port)]));

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
messages = { shell: 0, collectd: 0 };
const elapsedS = await measure(watched, SECONDS);
const held = watched.map((w) => [`${w.name}, what each process holds at the end:`, ...describeProcesses(w)]);
await stopGroups(watched);
await broker.stop();
rmSync(dir, { recursive: true, force: true });

const samples = elapsedS / (INTERVAL_MS / 1000);
const rows: [string, (w: WatchedGroup) => number, number][] = [
  ['CPU, % of one core', (w) => ((w.cpu1 - w.cpu0) / (elapsedS * 1000)) * 100, 2],
  ['CPU ms per interval', (w) => (w.cpu1 - w.cpu0) / samples, 2],
  ['RSS sum, MiB (mean)', (w) => mean(w.rss), 2],
  ['RSS sum, MiB (max)', (w) => max(w.rss), 2],
  ['PSS sum, MiB (mean)', (w) => mean(w.pss), 2],
  ['PSS sum, MiB (max)', (w) => max(w.pss), 2],
  ['union, MiB (mean)', (w) => mean(w.union), 2],
  ['union, MiB (max)', (w) => max(w.union), 2],
  ['processes (mean)', (w) => mean(w.processes), 1],
];
const [shell, collectd] = watched;
const cell = (s: string) => s.padStart(16);
console.log(`\n${''.padEnd(24)}${cell('shell agent')}${collectd ? cell('collectd') + cell('shell/collectd') : ''}`);
for (const [label, value, digits] of rows) {
  const a = value(shell!);
  const b = collectd ? value(collectd) : Number.NaN;
  console.log(`${label.padEnd(24)}${cell(figure(a, digits))}${collectd ? cell(figure(b, digits)) + cell(b > 0 ? `${(a / b).toFixed(2)}×` : '-') : ''}`);
}
console.log(
  `\nMQTT messages in the measured ${elapsedS.toFixed(0)} s: shell agent ${messages.shell} (one JSON sample each), collectd ${messages.collectd} (one value each)`,
);
console.log('RSS counts a page two processes share (libc, busybox) once for each; PSS splits it with every user, the rest of the machine too;');
console.log(
  `the union counts each physical page of the group once: the memory it occupies${shell!.union.length === 0 ? ' (not measured: reading page frames needs root)' : ''}.`,
);
for (const lines of held) console.log(`\n${lines.join('\n')}`);
