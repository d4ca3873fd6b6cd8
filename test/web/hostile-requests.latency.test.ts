// Hostile and absurd requests against a real `remonitor up` (its own process, secure defaults) whose
// database holds what bad clocks leave behind: samples from 1970, 2000 and the year 3000 beside
// ordinary ones. While every route is asked the worst we can think of, and then a seeded random
// sweep of every route and parameter, a probe asks /healthz and sends MQTT PINGREQs every 20 ms:
// nothing a viewer asks may hold the hub's event loop, so both stay fast and nothing answers 5xx.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample } from '../../protocol/index.ts';
import { SERIES_METRICS } from '../../shared/api-types.ts';
import { sampleAt } from '../helpers/fleet-publisher.ts';
import { CLI, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';
import { openSocket, varint } from '../broker/raw-mqtt.ts';

afterAll(runCleanups);

const NOW = Date.now();
const YEAR_2000 = Date.UTC(2000, 0, 1);
const YEAR_3000 = Date.UTC(3000, 0, 1);
const RECENT = 600; // samples at 1 s up to now
const DAY_MS = 86_400_000;

/** A node's samples as a Pi with a dead RTC battery, or worse, would have left them. */
function seed(dataDir: string): void {
  const store = openSqliteStore(join(dataDir, 'remonitor.db'));
  const batch = (node: string, stamps: number[], boot = `b-${node}`) =>
    stamps.map((ts, i) => {
      const sample = sampleAt(i + 1, ts, { boot });
      return { node, sample, raw: encodeSample(sample) };
    });
  const recent = Array.from({ length: RECENT }, (_, i) => NOW - (RECENT - i) * 1000);
  store.insertBatch(batch('rtc-pi', [1, YEAR_2000, ...recent]));
  store.insertBatch(batch('future-pi', [...recent, YEAR_3000]));
  store.insertBatch(batch('plain-pi', recent));
  // A fleet around them, so that every minute of the last day holds someone's samples: the
  // exports above must walk them, not the calendar.
  const day = Array.from({ length: 24 * 360 }, (_, i) => NOW - DAY_MS + i * 10_000);
  for (let n = 0; n < 10; n++) store.insertBatch(batch(`fleet-${n}`, day));
  store.close();
}

function cli(dataDir: string, ...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
}

const str = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** CONNECT with a user name and password [MQTT-3.1.2-19, 3.1.2-21], keepalive 60 s. */
function connectWithCredentials(clientId: string, user: string, password: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(clientId), str(user), str(password)]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** Measures /healthz and MQTT PINGREQ→PINGRESP round trips every 20 ms until stopped. */
class Probe {
  readonly health: number[] = [];
  readonly pings: number[] = [];
  readonly failures: string[] = [];
  private running = true;
  private done: Promise<void>[] = [];

  constructor(
    private readonly base: string,
    private readonly socket: Socket,
  ) {
    this.done.push(
      this.loop(async () => {
        this.health.push(await this.timeHealth());
      }),
    );
    this.done.push(
      this.loop(async () => {
        this.pings.push(await this.timePing());
      }),
    );
  }

  private async loop(measure: () => Promise<void>): Promise<void> {
    while (this.running) {
      try {
        await measure();
      } catch (err) {
        this.failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async timeHealth(): Promise<number> {
    const started = performance.now();
    const res = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    return performance.now() - started;
  }

  private timePing(): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no PINGRESP within 30 s')), 30_000);
      this.socket.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        if (chunk[0] !== 0xd0) reject(new Error(`expected PINGRESP, got 0x${chunk[0]?.toString(16)}`));
        else resolve(performance.now() - started);
      });
      this.socket.write(Buffer.from([0xc0, 0x00]));
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? 0;

/** mulberry32: a small seeded generator, so a failing sweep can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TIMES = [
  '0',
  '1',
  '-1',
  String(YEAR_2000 - 100_000),
  String(YEAR_3000),
  String(Number.MAX_SAFE_INTEGER),
  '9999999999999999',
  'now',
  '-100000d',
  '-1ms',
  '',
  'abc',
  '1e400',
  String(NOW),
];
const ONE_METRIC_1000_TIMES = Array(1000).fill('cpu_pct').join(',');
const METRICS = ['cpu_pct', ONE_METRIC_1000_TIMES, SERIES_METRICS.join(','), 'nope', '', ',,,', 'cpu_pct;DROP TABLE samples'];
const NODES = ['rtc-pi', 'future-pi', 'plain-pi', 'fleet-3', 'nobody', '..', '%00', 'a'.repeat(300)];
const POINTS = ['2', '5000', '1000000000', '-1', 'x', '1.5'];
const DURATIONS = ['5m', '7d', '0', '-1h', '100000d', 'x', '1e400'];

/** Every route a viewer can read, with the parameters it takes and the values to try. */
const ROUTES: { path: (n: string) => string; params: Record<string, string[]> }[] = [
  { path: () => '/api/nodes', params: {} },
  { path: (n) => `/api/nodes/${n}`, params: {} },
  { path: (n) => `/api/nodes/${n}/series`, params: { metrics: METRICS, from: TIMES, to: TIMES, points: POINTS } },
  { path: (n) => `/api/nodes/${n}/export`, params: { metrics: METRICS, from: TIMES, to: TIMES, format: ['csv', 'json', 'xml', ''] } },
  { path: (n) => `/api/nodes/${n}/control`, params: {} },
  { path: () => '/api/alarms', params: { node: NODES, history: DURATIONS } },
  { path: () => '/api/alarms/rules', params: {} },
  { path: () => '/api/alarms/silences', params: {} },
  { path: () => '/api/sessions', params: {} },
  { path: () => '/api/sessions/nope', params: { since: TIMES } },
  { path: () => '/api/sessions/demo/export', params: { format: ['csv', 'json', 'x'] } },
  { path: () => '/api/processes', params: { window: DURATIONS, node: NODES } },
  { path: (n) => `/api/processes/${n}/node/history`, params: { from: TIMES, to: TIMES } },
  { path: () => '/metrics', params: {} },
];

describe('hostile requests to a hub with bad clocks in its past', () => {
  it('never hold the event loop: /healthz and MQTT pings stay under 100 ms p99, no 5xx, and exports are whole', async () => {
    const dataDir = tempDir();
    seed(dataDir);
    const apiToken = /token \(shown once\): (\S+)/.exec(cli(dataDir, 'token', 'add', 'sweeper', '--role', 'viewer'))![1]!;
    const mqttToken = /shown only now:\s+(\S+)/.exec(cli(dataDir, 'client', 'add', 'probe', '--role', 'viewer'))![1]!;
    const up = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    const [, base] = await up.waitForLine(/dashboard at (http:\/\/\S+?)\/?\s/);
    const probeErrors: string[] = [];
    const [, mqttPort] = await up.waitForLine(/MQTT at mqtt:\/\/[\d.]+:(\d+)/);
    const get = async (path: string) => {
      const started = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiToken}` }, signal: AbortSignal.timeout(60_000) });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, body, ms: performance.now() - started };
    };

    const socket = await openSocket(Number(mqttPort));
    socket.on('error', (err) => probeErrors.push(err.message));
    socket.write(connectWithCredentials('probe-1', 'probe', mqttToken));
    const connack: Buffer = await new Promise((resolve) => socket.once('data', resolve));
    expect([...connack]).toEqual([0x20, 0x02, 0x00, 0x00]);
    const probe = new Probe(base!, socket);
    await new Promise((r) => setTimeout(r, 5000));

    const failures: string[] = [];
    const slowest: { path: string; ms: number; status: number }[] = [];
    const ask = async (path: string) => {
      const res = await get(path);
      slowest.push({ path: path.slice(0, 160), ms: res.ms, status: res.status });
      if (res.status >= 500) failures.push(`${path.slice(0, 200)} → ${res.status} ${res.body.toString().slice(0, 200)}`);
      return res;
    };

    // The cases found by hand: a sample from 2000 or 1970, a `to` in the year 3000, a metric list of repeats.
    const rtcExport = await ask(`/api/nodes/rtc-pi/export?format=csv&from=0&to=now`);
    expect(rtcExport.status).toBe(200);
    expect(rtcExport.body.toString().trim().split('\n')).toHaveLength(1 + 2 + RECENT);
    const since2000 = await ask(`/api/nodes/rtc-pi/export?format=json&from=${YEAR_2000 - 100_000}&to=now`);
    expect(JSON.parse(since2000.body.toString())).toHaveLength(1 + RECENT);
    const toYear3000 = await ask(`/api/nodes/future-pi/export?format=csv&from=1&to=${YEAR_3000 + 1}`);
    expect(toYear3000.body.toString().trim().split('\n')).toHaveLength(1 + RECENT + 1);
    await ask(`/api/nodes/rtc-pi/export?format=csv&from=0&to=${Number.MAX_SAFE_INTEGER}`);
    await ask(`/api/nodes/rtc-pi/series?from=0&to=${Number.MAX_SAFE_INTEGER}&points=5000`);
    const repeats = await ask(`/api/nodes/plain-pi/series?metrics=${ONE_METRIC_1000_TIMES}&from=-15m&points=5000`);
    expect(repeats.status).toBe(200);
    expect(JSON.parse(repeats.body.toString()).metrics).toEqual(['cpu_pct']);
    const repeatedExport = await ask(`/api/nodes/plain-pi/export?metrics=${ONE_METRIC_1000_TIMES}&from=-15m`);
    expect(repeatedExport.body.toString().split('\n')[0]).toBe('time,ts_ms,seq,cpu_pct');

    // The seeded sweep: every route, each parameter drawn from its hostile values.
    const next = random(20261206);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    let asked = 0;
    for (let round = 0; round < 12; round++) {
      for (const route of ROUTES) {
        const query = Object.entries(route.params)
          .filter(() => next() < 0.85)
          .map(([k, values]) => `${k}=${encodeURIComponent(pick(values))}`)
          .join('&');
        await ask(`${route.path(encodeURIComponent(pick(NODES)))}${query ? `?${query}` : ''}`);
        asked++;
      }
    }
    await probe.stop();
    socket.destroy();

    const report = `${asked} sweep requests; /healthz p99 ${p99(probe.health).toFixed(1)} ms (worst ${Math.max(...probe.health).toFixed(1)}, n=${probe.health.length}); MQTT ping p99 ${p99(probe.pings).toFixed(1)} ms (worst ${Math.max(...probe.pings).toFixed(1)}, n=${probe.pings.length})`;
    console.log(`hostile sweep: ${report}`);
    slowest.sort((a, b) => b.ms - a.ms);
    console.log(
      `slowest requests:\n${slowest
        .slice(0, 5)
        .map((r) => `  ${r.ms.toFixed(0)} ms ${r.status} ${r.path}`)
        .join('\n')}`,
    );
    expect(failures, report).toEqual([]);
    expect([...probe.failures, ...probeErrors], report).toEqual([]);
    expect(p99(probe.health), report).toBeLessThan(100);
    expect(p99(probe.pings), report).toBeLessThan(100);
  }, 300_000);
});
