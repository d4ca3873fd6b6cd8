// `npm run bench`: every benchmark in turn, each bounded in time, printing its own table.
// Pass a name to run one: npm run bench -- storage
import { execSync, spawnSync } from 'node:child_process';

const BENCHES = [
  ['wire-size', []],
  ['agent-cost', []],
  ['agent-collectors', []], // the agent's new collectors on and off, beside collectd
  ['shell-agent', []], // the agent without Node.js, beside collectd
  ['four-agents', []], // Node agent, shell agent, collectd, node_exporter at once: a table and dist/four-agents.svg
  ['agent-process', ['--duration', '180s']], // 180 samples: a minute's mean moves by ±10 % on a shared VM
  ['storage', []], // 50 nodes, a week at 1/min and its last 3 h at 1 Hz, compacted
  ['storage-reads', []], // a node page's 7-day charts at 1,000 nodes, first read and again
  ['storage-pg', []],
  ['scale-pg', ['--duration', '30s']],
  // The fleet phase at the size the hub is built for: ten thousand nodes at 1 Hz, for a minute.
  ['hub-ingest', ['--duration', '60s', '--fleet-nodes', '10000', '--fleet-duration', '60s']],
  ['page-render', []],
  ['fleet-page', []],
  ['export-metrics', []],
  ['alarms-accuracy', []],
  ['command-rtt', []],
  ['spool-memory', []],
  ['hub-stall', []],
  ['auth-connect', []],
];
const only = process.argv[2];
const root = new URL('..', import.meta.url).pathname;
console.log(`machine: ${execSync('nproc').toString().trim()} cores, load average ${execSync('cat /proc/loadavg').toString().split(' ').slice(0, 3).join(' ')}`);
for (const [name, args] of BENCHES) {
  if (only && name !== only) continue;
  console.log(`\n== ${name}`);
  const run = spawnSync(process.execPath, ['scripts/run-ts.mjs', `bench/${name}.ts`, ...args], { cwd: root, stdio: 'inherit', timeout: 10 * 60_000 });
  if (run.status !== 0) console.log(`(${name} failed with ${run.status ?? run.signal})`);
}
