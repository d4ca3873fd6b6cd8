// Issue 9's figures, in one run on one external broker (Mosquitto from apt): the raw QoS 1 pub/sub
// rate to a plain subscriber, then sustained ingest by `remonitor hub` processes under the same
// unpaced load: one hub on SQLite (the default, single-process path), one hub on PostgreSQL, and
// two hubs sharing the stream through an MQTT 5 shared subscription into the same PostgreSQL.
// Rates count samples committed during the publishing window, past its first 5 s (the hubs' own
// counters on /metrics).
// Run: node scripts/run-ts.mjs bench/scale-pg.ts [--duration 30s]
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { parseDuration } from '../protocol/index.ts';
import { freePort, startMosquitto } from '../test/helpers/mosquitto.ts';
import { runCleanups, spawnProcess, tempDir, type Spawned } from '../test/helpers/parts.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '30s' } } });
if (parseDuration(values.duration!) === null) throw new TypeError(`--duration must be a duration such as 30s, got ${values.duration}`);
const repo = join(new URL('.', import.meta.url).pathname, '..'); // this bundle runs from dist/ (scripts/run-ts.mjs)
const CLI = join(repo, 'bin/remonitor.mjs');

function runPublisher(url: string, root: string): Promise<{ published: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repo, 'scripts/run-ts.mjs'), join(repo, 'bench/load-publisher.ts'), '--broker', url, '--root', root, '--duration', values.duration!],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`publisher exited ${code}`))));
  });
}

async function storedBy(port: number): Promise<number> {
  // A new connection each time (agent: false): a kept-alive one may be closed by the server just as it is reused.
  const text = await new Promise<string>((resolve, reject) =>
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res
        .on('data', (d) => (body += d))
        .on('end', () => resolve(body))
        .on('error', reject);
    }).on('error', reject),
  );
  return Number(/^remonitor_hub_samples_stored_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

/** `remonitor hub` processes on `storage` (in a shared group when there are several); stored samples/s under the load. */
async function hubRate(label: string, brokerUrl: string, storage: (dataDir: string) => string, workers: number): Promise<number> {
  const hubs: { proc: Spawned; port: number }[] = [];
  for (let i = 0; i < workers; i++) {
    const port = await freePort();
    const dataDir = tempDir('remonitor-bench-hub-');
    const group = workers > 1 ? ['--shared-group', 'bench', '--hub-id', `w${i}`] : [];
    const proc = spawnProcess(
      process.execPath,
      [
        CLI,
        'hub',
        '--broker',
        brokerUrl,
        '--storage',
        storage(dataDir),
        ...group,
        '--http-port',
        String(port),
        '--data-dir',
        dataDir,
        '--insecure',
        '--log-level',
        'warn',
      ],
      { cwd: repo },
    );
    await proc.waitForLine(/remonitor: hub on/, 30_000);
    hubs.push({ proc, port });
  }
  const total = async () => (await Promise.all(hubs.map((h) => storedBy(h.port)))).reduce((a, b) => a + b, 0);
  const before = await total();
  const start = Date.now();
  const timer = setInterval(
    () => void total().then((n) => process.stderr.write(`  ${label}: ${Math.round((Date.now() - start) / 1000)} s, ${(n - before).toLocaleString()} stored\n`)),
    10_000,
  );
  // The rate past the first 5 s: first the hubs create the nodes, boots and partitions, in turns.
  const warm = new Promise<{ n: number; at: number }>((resolve) => setTimeout(() => void total().then((n) => resolve({ n, at: Date.now() })), 5000));
  await runPublisher(brokerUrl, 'remonitor');
  const { n: warmCount, at: warmAt } = await warm;
  const stored = (await total()) - warmCount;
  const seconds = (Date.now() - warmAt) / 1000;
  clearInterval(timer);
  for (const { proc } of hubs) {
    proc.child.kill('SIGTERM');
    await proc.exited;
    // A hub that logged errors (a failed write, a lost broker) makes its figure suspect: show them.
    const errors = proc
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    if (errors.length > 0) process.stderr.write(`  ${label}: ${errors.length} error lines, first: ${errors[0]!.slice(0, 400)}\n`);
  }
  return stored / seconds;
}

const broker = await startMosquitto();
const postgres = await startPostgres();
try {
  // 1. Raw broker rate: a subscriber that only counts.
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  let delivered = 0;
  sub.on('message', () => delivered++);
  await sub.subscribeAsync('bench/+/metrics', { qos: 1 });
  const rawStart = Date.now();
  await runPublisher(broker.url, 'bench');
  const rawRate = delivered / ((Date.now() - rawStart) / 1000);
  await sub.endAsync();
  process.stderr.write(`  raw Mosquitto: ${Math.round(rawRate).toLocaleString()} msg/s\n`);

  const pgUrls = [await postgres.createDatabase(), await postgres.createDatabase()];
  const sqlite = await hubRate('1 hub, SQLite', broker.url, (dir) => join(dir, 'remonitor.db'), 1);
  const pgOne = await hubRate('1 hub, PostgreSQL', broker.url, () => pgUrls[0]!, 1);
  const pgTwo = await hubRate('2 hubs, PostgreSQL', broker.url, () => pgUrls[1]!, 2);

  const row = (name: string, rate: number) =>
    console.log(
      `  ${name.padEnd(38)} ${Math.round(rate).toLocaleString().padStart(7)} samples/s  ${((rate / rawRate) * 100).toFixed(0).padStart(3)} % of raw  ${(rate / sqlite).toFixed(2)} × SQLite`,
    );
  console.log(`ingest on Mosquitto (QoS 1, 50 publishing connections, 1,000 simulated nodes, ${values.duration} each), 2 cores shared by everything`);
  console.log(`  raw Mosquitto → plain subscriber       ${Math.round(rawRate).toLocaleString().padStart(7)} msg/s`);
  row('1 hub → SQLite (single process)', sqlite);
  row('1 hub → PostgreSQL', pgOne);
  row('2 hubs, shared group → PostgreSQL', pgTwo);
} finally {
  await postgres.stop();
  await runCleanups();
}
