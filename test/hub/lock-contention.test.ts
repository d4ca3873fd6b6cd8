// No data lost to lock contention: one real hub (broker, ingest on its writer thread, the command
// bridge, the alarm engine, the HTTP API) takes samples of many nodes, watch samples of several
// sessions, alarm transitions on every sample, and session and alarm writes over the API, all at
// once on the same SQLite file. Every sample, watch sample and transition must be in the database.
// A watch sample stored in a transaction that read before it wrote failed at once with "database
// is locked" whenever ingest's thread was committing, and the command bridge dropped it.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { openDatabase } from '../../shared/sqlite-open.ts';
import { encodeSample, topics } from '../../protocol/index.ts';
import { encodeProcs, type ProcsSample } from '../../protocol/procs.ts';
import { fakeAgentClient, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { recordingLog, WARN } from '../helpers/recording-log.ts';

afterEach(runCleanups);

const NODES = 12;
const SAMPLES_PER_NODE = 150;
const SESSIONS = 6;
const WATCH_SAMPLES = 200;

const watchSample = (session: string, seq: number, t0: number): ProcsSample => ({
  v: 1,
  session,
  seq,
  ts_ms: t0 + seq * 10,
  target: 'name:stress',
  interval_ms: 250,
  procs: [
    {
      pid: 4242,
      name: 'stress',
      rss_bytes: 1e6 + seq,
      vsize_bytes: 2e6,
      cpu_pct: 1,
      threads: 1,
      rss_anon_bytes: 5e5,
      rss_file_bytes: 5e5,
      swap_bytes: 0,
      exited: false,
    },
  ],
});

describe('lock contention', () => {
  it('stores every sample, watch sample and alarm transition while ingest, watches, sessions and alarms write at once', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const { log, lines } = recordingLog();
    // A rule that changes state on every sample: cpu alternates 5 / 95 and the window holds one sample.
    const flip = { id: 'flip', metric: 'cpu_pct', threshold: 50, for: '0s', window: '1ms', horizon: '0' };
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log, alarms: { seedRules: () => [flip], tickMs: 100 } });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;
    const post = (path: string, body?: unknown) =>
      fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

    const t0 = Date.now() - 3_600_000;
    const metricsClient = await fakeAgentClient(url);
    const procsClient = await fakeAgentClient(url);
    const nodes = Array.from({ length: NODES }, (_, i) => `lock-${i}`);
    const sessions = Array.from({ length: SESSIONS }, (_, i) => `s-lock-${i}`);
    let publishing = true;

    const publishMetrics = async () => {
      for (let seq = 1; seq <= SAMPLES_PER_NODE; seq++) {
        // Realistic samples with their process lists: ingest's transactions insert those too.
        await Promise.all(
          nodes.map((node) =>
            metricsClient.publishAsync(topics.metrics(node), Buffer.from(encodeSample(sampleAt(seq, t0 + seq * 1000, { cpu_pct: seq % 2 ? 95 : 5 }))), {
              qos: 1,
            }),
          ),
        );
      }
    };
    const publishWatches = async () => {
      for (let seq = 1; seq <= WATCH_SAMPLES; seq++) {
        await Promise.all(
          sessions.map((s, i) => procsClient.publishAsync(topics.procs(nodes[i % NODES]!), Buffer.from(encodeProcs(watchSample(s, seq, t0))), { qos: 1 })),
        );
      }
    };
    // Session and alarm writes over the API, on the main thread's connections, while the rest goes on.
    const apiWrites = async () => {
      let round = 0;
      while (publishing && round < 2000) {
        round++;
        const session = sessions[round % SESSIONS]!;
        const writes = [
          post('/api/alarms/ack', { node: nodes[round % NODES], rule_id: 'flip' }),
          post('/api/alarms/silence', { node: nodes[round % NODES], rule_id: 'flip', for: '1m', reason: `round ${round}` }),
          fetch(`${api}/api/sessions/${session}`),
        ];
        if (round % 10 === 0) writes.push(post(`/api/sessions/${session}/stop`));
        await Promise.all(writes);
      }
      return round;
    };

    const rounds = apiWrites();
    await Promise.all([publishMetrics(), publishWatches()]).finally(() => (publishing = false));
    expect(await rounds).toBeGreaterThan(5);

    const total = NODES * SAMPLES_PER_NODE;
    await waitFor('every sample stored', () => hub.ingest.stats.stored + hub.ingest.stats.duplicates >= total, 60_000);
    const db = openDatabase(join(dataDir, 'remonitor.db'), { readonly: true });
    cleanup(() => void db.close());
    const perNode = db.prepare('SELECT n.name AS node, count(*) AS n FROM samples s JOIN nodes n ON n.id = s.node_id GROUP BY n.name').all() as {
      node: string;
      n: number;
    }[];
    expect(Object.fromEntries(perNode.map((r) => [r.node, r.n]))).toEqual(Object.fromEntries(nodes.map((n) => [n, SAMPLES_PER_NODE])));

    const bridge = hub.sessions.bridge;
    await waitFor('every watch sample handled', () => bridge.stats.procs === SESSIONS * WATCH_SAMPLES && bridge.storeFailure === null, 30_000);
    const watchCount = db.prepare('SELECT session_id AS session, count(*) AS n FROM session_samples GROUP BY session_id').all() as {
      session: string;
      n: number;
    }[];
    expect(Object.fromEntries(watchCount.map((r) => [r.session, r.n]))).toEqual(Object.fromEntries(sessions.map((s) => [s, WATCH_SAMPLES])));
    expect(bridge.stats).toMatchObject({ procs: SESSIONS * WATCH_SAMPLES, rejected: 0, procsDropped: 0 });

    const transitions = (db.prepare("SELECT count(*) AS n FROM alarm_transitions WHERE rule_id = 'flip'").get() as { n: number }).n;
    expect(hub.alarms!.stats.transitions).toBeGreaterThan(NODES * 10);
    expect(transitions).toBe(hub.alarms!.stats.transitions);

    const failures = lines.filter((l) => l.level >= WARN);
    expect(failures.map((l) => `${l.msg}: ${l.err ?? ''}`)).toEqual([]);
    console.log(
      `lock contention: ${total} samples, ${SESSIONS * WATCH_SAMPLES} watch samples, ${transitions} alarm transitions, ${await rounds} rounds of API writes; all stored`,
    );
  });

  it('keeps the watch samples the database refuses past its wait, and stores them in order once it takes them', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const { log, lines } = recordingLog();
    const { hub } = await startHub(url, dataDir, { log });
    const bridge = hub.sessions.bridge;
    const client = await fakeAgentClient(url);
    const t0 = Date.now();
    const publish = (seq: number) => client.publishAsync(topics.procs('held-1'), Buffer.from(encodeProcs(watchSample('s-held', seq, t0))), { qos: 1 });
    await publish(1);
    await waitFor('the first watch sample', async () => (await hub.sessions.sessions.get('s-held'))?.sample_count === 1);
    // Another process holds the write lock longer than the hub's connection waits (5 s).
    const holder = spawnProcess(process.execPath, [
      '-e',
      `
      const db = require('better-sqlite3')(${JSON.stringify(join(dataDir, 'remonitor.db'))});
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN IMMEDIATE');
      console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); console.log('released'); }, 6500);
    `,
    ]);
    await holder.waitForLine(/locked/);
    for (let seq = 2; seq <= 11; seq++) await publish(seq);
    await holder.waitForLine(/released/, 30_000);
    await waitFor('every watch sample stored', async () => (await hub.sessions.sessions.get('s-held'))?.sample_count === 11, 30_000);
    expect(bridge.storeFailure).toBeNull();
    expect(bridge.stats).toMatchObject({ procs: 11, rejected: 0, procsDropped: 0 });
    const seqs = (await hub.sessions.sessions.detail('s-held'))!.samples.map((s) => s.ts_ms - t0);
    expect(seqs).toEqual(Array.from({ length: 11 }, (_, i) => (i + 1) * 10));
    // While it lasted, the problem was the store's, naming the file; nothing was logged as dropped.
    const store = lines.find((l) => l['what'] === 'store');
    expect(String(store?.['detail'])).toMatch(
      new RegExp(`watch samples wait to be stored since \\S+: ${join(dataDir, 'remonitor.db').replace(/[.]/g, '\\.')}: database is locked`),
    );
    expect(lines.filter((l) => /dropped/.test(l.msg))).toEqual([]);
  });
});
