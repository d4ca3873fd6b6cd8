// Command → reply round trip on loopback: a real agent process (the built CLI) on the embedded
// broker, pinged N times in a row over MQTT, in CBOR and in JSON; and what a watch costs the agent
// per watch sample at 500 ms (CPU time of its /proc reads), by target kind. Figures only, no asserts.
// Run: npm run build && node scripts/run-ts.mjs bench/command-rtt.ts [--pings 200] [--watch-samples 20]
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../shared/logger.ts';
import { ProcessWatch } from '../edge-agent/process-watch.ts';
import { decodeReply, encodeCommand, type WatchTarget } from '../protocol/commands.ts';
import { topics } from '../protocol/topics.ts';

const { values } = parseArgs({ options: { pings: { type: 'string', default: '200' }, 'watch-samples': { type: 'string', default: '20' } } });
const PINGS = Number(values.pings);
const WATCH_SAMPLES = Number(values['watch-samples']);
if (!Number.isInteger(PINGS) || PINGS < 1) throw new TypeError(`--pings must be a positive integer, got ${values.pings}`);
if (!Number.isInteger(WATCH_SAMPLES) || WATCH_SAMPLES < 2) throw new TypeError(`--watch-samples must be an integer ≥ 2, got ${values['watch-samples']}`);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(2)} ms, p90 ${pct(xs, 90).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`;

const broker = new EmbeddedBroker({ port: 0, log: createLogger('silent') });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
const node = 'rtt-bench';
const agent = spawn(
  process.execPath,
  [new URL('../bin/remonitor.mjs', import.meta.url).pathname, 'agent', '--broker', url, '--node', node, '--log-level', 'warn'],
  { stdio: 'inherit' },
);
try {
  const client = await connectAsync(url, { protocolVersion: 4 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // as the hub's command bridge does
  const waiting = new Map<string, () => void>();
  client.on('message', (_t, payload) => {
    const r = decodeReply(payload);
    if (r.id) waiting.get(r.id)?.();
  });
  await client.subscribeAsync(topics.reply(node), { qos: 1 });
  const ping = async (id: string, encoding: 'cbor' | 'json', qos: 0 | 1): Promise<number> => {
    const done = new Promise<void>((resolve) => waiting.set(id, resolve));
    const t0 = performance.now();
    await client.publishAsync(topics.cmd(node), Buffer.from(encodeCommand({ id, action: 'ping' }, encoding)), { qos });
    await Promise.race([done, sleep(5000).then(() => Promise.reject(new Error(`no reply to ${id} within 5 s`)))]);
    waiting.delete(id);
    return performance.now() - t0;
  };
  // Wait for the agent to subscribe: ping until one is answered (bounded).
  for (let i = 0; ; i++) {
    if (i >= 50) throw new Error('the agent never answered');
    const ok = await ping(`warm-${i}`, 'cbor', 1).then(
      () => true,
      () => false,
    );
    if (ok) break;
  }
  for (let i = 0; i < 20; i++) await ping(`warmup-${i}`, 'cbor', 1);
  for (const [encoding, qos] of [
    ['cbor', 1],
    ['json', 1],
    ['cbor', 0],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < PINGS; i++) times.push(await ping(`${encoding}-${qos}-${i}`, encoding, qos));
    console.log(`command → reply, ${encoding.toUpperCase()}, command QoS ${qos} (reply QoS 1), ${PINGS} pings in a row: ${fmt(times)}`);
  }
  await client.endAsync();
} finally {
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await broker.stop();
}

// A watch's cost per sample: the CPU time (user + system) of this process while it reads /proc.
const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'rtt-bench-watched'], { stdio: 'ignore' });
try {
  const targets: [string, WatchTarget][] = [
    ['pid', { kind: 'pid', pid: child.pid! }],
    ['name (scans every pid)', { kind: 'name', name: 'node' }],
    ['cmdline pattern (scans every pid)', { kind: 'cmdline', pattern: 'rtt-bench-watched' }],
  ];
  for (const [label, target] of targets) {
    const w = new ProcessWatch({ session: 'bench', target, intervalMs: 500, publish: () => undefined });
    w.sampleNow(); // first read fills the command-line cache, as a running watch's would be
    w.cost.cpuMicros = 0;
    w.cost.samples = 0;
    let matched = 0;
    for (let i = 0; i < WATCH_SAMPLES; i++) {
      matched = w.sampleNow().procs.length;
      await sleep(500);
    }
    const perSample = w.cost.cpuMicros / w.cost.samples / 1000;
    console.log(
      `watch by ${label}, ${matched} matched, at 500 ms: ${perSample.toFixed(3)} ms CPU per sample = ${((perSample / 500) * 100).toFixed(3)} % of one core`,
    );
  }
} finally {
  child.kill('SIGKILL');
}
console.log(`(${(await import('node:fs')).readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length} processes on this machine)`);
