// Four ways to watch a node, side by side in one run, started together and measured over the same
// seconds at the same interval: remonitor's Node agent (the bundle with its systemd unit's node
// flags and environment, acknowledged by a hub), the shell agent (deploy/remonitor-agent.sh under
// busybox ash with one mosquitto_pub), collectd with the plugins that read the same things and
// MQTT out (bench/watched-group.ts), and node_exporter with the matching collectors, scraped over
// HTTP each interval by this process. Each runs as a process group of its own; CPU is the group's
// from /proc (threads' schedstat, children reaped in 10 ms ticks), memory its sum of RSS, sum of PSS and, as root, the union of its
// resident pages (bench/resident-memory.ts). Prints a table and writes a bar chart (SVG) of it.
// Figures only, no asserts.
// Run: node scripts/run-ts.mjs bench/four-agents.ts [--seconds 60] [--interval 1s] [--out FILE.svg] [--bundle dist/remonitor-agent.mjs]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { HubService } from '../cli/hub-service.ts';
import { parseDuration } from '../protocol/index.ts';
import { createLogger } from '../shared/logger.ts';
import { unitNodeFlags } from './agent-unit.ts';
import {
  COLLECTD_PLUGINS,
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

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    interval: { type: 'string', default: '1s' },
    out: { type: 'string' },
    bundle: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const INTERVAL_MS = parseDuration(values.interval);
if (!(SECONDS >= 5 && SECONDS <= 600)) throw new TypeError(`--seconds must be between 5 and 600, got ${values.seconds}`);
if (INTERVAL_MS === null || INTERVAL_MS < 1000 || INTERVAL_MS % 1000 !== 0) {
  throw new TypeError(`--interval must be whole seconds (collectd's Interval), such as 1s or 10s; got ${values.interval}`);
}
// The Node agent's start-up (module load, the birth record, V8's first compaction) is not its steady state.
const WARMUP_MS = 15_000;
const SCRIPT = new URL('../deploy/remonitor-agent.sh', import.meta.url).pathname;
// run-ts.mjs runs this from dist/, beside the bundle and the other benchmarks' builds.
const OUT = values.out ?? new URL('four-agents.svg', import.meta.url).pathname;
const bundle =
  values.bundle ??
  [new URL('remonitor-agent.mjs', import.meta.url).pathname, new URL('../dist/remonitor-agent.mjs', import.meta.url).pathname].find(existsSync);
if (!bundle) throw new Error('no agent bundle: run node scripts/build.mjs first, or pass --bundle');

if (process.platform !== 'linux') {
  console.log('four-agents bench: Linux only (it reads /proc)');
  process.exit(0);
}
for (const [binary, pkg] of [
  ['busybox', 'busybox'],
  ['mosquitto_pub', 'mosquitto-clients'],
  ['collectd', 'collectd-core'],
  ['prometheus-node-exporter', 'prometheus-node-exporter'],
] as const) {
  if (!ensureInstalled(binary, pkg, 'four-agents bench')) throw new Error(`${binary} is missing: apt-get install ${pkg}`);
}
// What node_exporter reads to match the others: cpu, load, memory and swap, filesystems, disks,
// network, temperature (hwmon, thermal zones), boot time (stat).
const NODE_EXPORTER_COLLECTORS = ['cpu', 'loadavg', 'meminfo', 'filesystem', 'diskstats', 'netdev', 'hwmon', 'thermal_zone', 'stat'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const log = createLogger('silent');
const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-four-'));
// A hub acknowledges what it stores, as in production; without acks the Node agent would re-send.
const hub = new HubService({ brokerUrl: url, dataDir: join(dir, 'hub'), httpPort: 0, log, alarms: false });
await hub.start();

const unit = unitNodeFlags();
const exporterPort = await freePort();
const groups: WatchedGroup[] = [
  startGroup(
    'Node agent',
    process.execPath,
    [...unit.flags, bundle, '--broker', url, '--node', 'bench-node', '--interval', values.interval!, '--log-level', 'warn', '--spool-dir', join(dir, 'spool')],
    unit.env,
  ),
  startGroup('shell agent', 'busybox', ['sh', SCRIPT, '--broker', url, '--node', 'bench-shell', '--interval', values.interval!]),
  startGroup('collectd', 'collectd', ['-f', '-C', writeCollectdConf(dir, INTERVAL_MS / 1000, broker.port)]),
  startGroup('node_exporter', 'prometheus-node-exporter', [
    `--web.listen-address=127.0.0.1:${exporterPort}`,
    '--collector.disable-defaults',
    ...NODE_EXPORTER_COLLECTORS.map((c) => `--collector.${c}`),
  ]),
];

// node_exporter works when scraped: once an interval, as a Prometheus would.
let scraping = true;
let scrapes = 0;
let scrapeFailures = 0;
const scraper = (async () => {
  while (scraping) {
    const started = performance.now();
    try {
      const response = await fetch(`http://127.0.0.1:${exporterPort}/metrics`, { signal: AbortSignal.timeout(INTERVAL_MS) });
      await response.text();
      if (response.ok) scrapes++;
      else scrapeFailures++;
    } catch {
      scrapeFailures++;
    }
    await sleep(Math.max(0, INTERVAL_MS - (performance.now() - started)));
  }
})();

let messages = { node: 0, shell: 0, collectd: 0 };
await broker.subscribeLocal('#', (topic, _payload, done) => {
  if (topic.startsWith('remonitor/bench-node/')) messages.node++;
  else if (topic.startsWith('remonitor/bench-shell/')) messages.shell++;
  else if (topic.startsWith('collectd/')) messages.collectd++;
  done();
});

console.log(
  `four-agents bench: ${SECONDS} s at an interval of ${values.interval}, after ${WARMUP_MS / 1000} s of start-up, all four at once; host ${process.arch}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores`,
);
console.log(`  Node agent: ${bundle}, node flags ${[...Object.entries(unit.env).map(([k, v]) => `${k}=${v}`), ...unit.flags].join(' ') || 'none'}`);
console.log(`  collectd plugins: ${COLLECTD_PLUGINS.join(', ')}; node_exporter collectors: ${NODE_EXPORTER_COLLECTORS.join(', ')}`);
await sleep(WARMUP_MS);
messages = { node: 0, shell: 0, collectd: 0 };
scrapes = 0;
scrapeFailures = 0;
const elapsedS = await measure(groups, SECONDS);
scraping = false;
await scraper;
await stopGroups(groups);
await hub.stop();
await broker.stop();
rmSync(dir, { recursive: true, force: true });

const cpuMsPerSecond = (w: WatchedGroup) => (w.cpu1 - w.cpu0) / elapsedS;
const rows: [string, (w: WatchedGroup) => number, number][] = [
  ['CPU ms per second', cpuMsPerSecond, 2],
  ['CPU, % of one core', (w) => cpuMsPerSecond(w) / 10, 2],
  ['RSS sum, MiB (mean)', (w) => mean(w.rss), 1],
  ['RSS sum, MiB (max)', (w) => max(w.rss), 1],
  ['PSS sum, MiB (mean)', (w) => mean(w.pss), 1],
  ['union, MiB (mean)', (w) => mean(w.union), 1],
  ['processes (mean)', (w) => mean(w.processes), 1],
];
const cell = (s: string) => s.padStart(15);
console.log(`\n${''.padEnd(22)}${groups.map((w) => cell(w.name)).join('')}`);
for (const [label, value, digits] of rows) console.log(`${label.padEnd(22)}${groups.map((w) => cell(figure(value(w), digits))).join('')}`);
console.log(
  `\nIn the measured ${elapsedS.toFixed(0)} s: Node agent ${messages.node} MQTT messages, shell agent ${messages.shell}, collectd ${messages.collectd} (one value each), node_exporter ${scrapes} scrapes${scrapeFailures ? ` (${scrapeFailures} failed)` : ''}.`,
);
console.log('RSS sums count a page shared by two processes of a group twice; PSS splits shared pages among all their users on the machine;');
console.log(
  `the union counts each physical page of a group once: what it occupies${groups[0]!.union.length === 0 ? ' (not measured: reading page frames needs root)' : ''}.`,
);

writeFileSync(OUT, barChart(groups));
console.log(`bar chart: ${OUT}`);

/** Two panels of bars: CPU ms per second, and memory (RSS sum, PSS sum, union) in MiB, for each group. */
function barChart(watched: WatchedGroup[]): string {
  const colours = ['#4e79a7', '#f28e2b', '#59a14f'];
  const width = 720;
  const panelHeight = 220;
  const left = 60;
  const groupWidth = (width - left - 20) / watched.length;
  const parts: string[] = [];
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const panel = (top: number, title: string, series: [string, (w: WatchedGroup) => number][]) => {
    const valuesOf = watched.map((w) => series.map(([, f]) => f(w)));
    const top1 = Math.max(...valuesOf.flat().filter(Number.isFinite), 1e-9) * 1.15;
    const y = (v: number) => top + 30 + (panelHeight - 60) * (1 - v / top1);
    const base = y(0);
    parts.push(`<text x="${left}" y="${top + 16}" font-weight="bold">${xml(title)}</text>`);
    parts.push(`<line x1="${left}" y1="${base}" x2="${width - 20}" y2="${base}" stroke="#444"/>`);
    series.forEach(([name], k) => {
      parts.push(`<rect x="${width - 250 + k * 80}" y="${top + 6}" width="10" height="10" fill="${colours[k]}"/>`);
      parts.push(`<text x="${width - 236 + k * 80}" y="${top + 15}" font-size="11">${xml(name)}</text>`);
    });
    const barWidth = (groupWidth - 30) / series.length;
    watched.forEach((w, i) => {
      const x0 = left + i * groupWidth + 15;
      valuesOf[i]!.forEach((v, k) => {
        if (!Number.isFinite(v)) return;
        const x = x0 + k * barWidth;
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(base - y(v)).toFixed(1)}" fill="${colours[k]}"/>`,
        );
        parts.push(`<text x="${(x + barWidth / 2 - 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" font-size="10" text-anchor="middle">${v.toFixed(1)}</text>`);
      });
      parts.push(`<text x="${(x0 + (groupWidth - 30) / 2).toFixed(1)}" y="${base + 16}" text-anchor="middle">${xml(w.name)}</text>`);
    });
  };
  panel(0, `CPU, ms per second (${elapsedS.toFixed(0)} s at ${values.interval})`, [['CPU', cpuMsPerSecond]]);
  panel(panelHeight, 'Memory, MiB (mean)', [
    ['RSS sum', (w) => mean(w.rss)],
    ['PSS sum', (w) => mean(w.pss)],
    ['union', (w) => mean(w.union)],
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelHeight * 2 + 10}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
