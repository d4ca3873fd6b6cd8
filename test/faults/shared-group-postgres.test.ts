// Issue 9's fault test: the scale path as deployed. Mosquitto 2 (passwords, deploy/mosquitto.acl),
// PostgreSQL from apt on a private port, two `remonitor hub` processes sharing ingest through an
// MQTT 5 shared subscription, a `remonitor web` over the same database, and a fleet of in-process
// agents (real spools, real acks; scripted samplers stand in for the OS). One hub is kill -9ed and
// restarted, then the broker is restarted. Every sample sent must be stored exactly once, with no
// seq gaps, every node's ack watermark past its last seq, and each web process answering alike.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type MosquittoAuth } from '../helpers/mosquitto.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { CLI, getJson, REPO, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';
import { allAcked, HUB_ACK_INTERVAL, HubProcess, simAgent } from './fleet.ts';

const NODES = 200;
const INTERVAL_MS = 500; // 2 Hz: 400 samples/s from the fleet
const HUB_USER = 'remonitor-hub';
const HUB_PASSWORD = 'hub-secret-for-the-test';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());
afterEach(runCleanups);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hubProcess(id: string, brokerUrl: () => string, storage: string, httpPort: number): HubProcess {
  return new HubProcess((h) => [
    'hub',
    '--broker',
    brokerUrl(),
    '--username',
    HUB_USER,
    '--password',
    HUB_PASSWORD,
    '--storage',
    storage,
    '--shared-group',
    'ingest',
    '--hub-id',
    id,
    '--http-port',
    String(httpPort),
    '--data-dir',
    h.dataDir,
    '--insecure',
    '--log-level',
    'warn',
    ...HUB_ACK_INTERVAL,
  ]);
}

/** A counter from a hub's /metrics (Prometheus text). */
async function hubCounter(api: string, name: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

describe('two hubs in a shared group on Mosquitto and PostgreSQL', () => {
  it('stores every sample once, acks every node to its last seq, across a hub kill -9 and a broker restart', async () => {
    const storage = await postgres.createDatabase();
    const nodes = Array.from({ length: NODES }, (_, i) => `sg-${String(i).padStart(3, '0')}`);
    const auth: MosquittoAuth = {
      users: { [HUB_USER]: HUB_PASSWORD, ...Object.fromEntries(nodes.map((n) => [n, `pw-${n}`])) },
      aclFile: join(REPO, 'deploy/mosquitto.acl'),
    };
    let broker = await startMosquitto(auth);
    const brokerUrl = () => broker.url;

    const ports = [await freePort(), await freePort()];
    const hubs = [hubProcess('a', brokerUrl, storage, ports[0]!), hubProcess('b', brokerUrl, storage, ports[1]!)];
    await Promise.all(hubs.map((h) => h.start()));
    const apis = ports.map((p) => `http://127.0.0.1:${p}`);

    const agents = nodes.map((n) => simAgent(broker.url, n, { intervalMs: INTERVAL_MS, username: n, password: `pw-${n}`, replayPerSecond: 200 }));
    await Promise.all(agents.map((a) => a.start()));
    await waitFor('every agent acked', () => agents.every((a) => a.replayer.spool.acked > 2), 60_000, 250);
    await sleep(20_000);
    // Both hubs take a share: the group really splits the stream.
    const shares = await Promise.all(apis.map((api) => hubCounter(api, 'remonitor_hub_samples_stored_total')));
    expect(Math.min(...shares)).toBeGreaterThan(0);

    // Fault 1: hub a dies mid-stream (whatever it held unstored, the agents re-send), and comes back.
    await hubs[0]!.kill9();
    await sleep(5_000);
    await hubs[0]!.start();
    await sleep(40_000);

    // Fault 2: the broker restarts on the same port; without persistence it forgets every session.
    broker.proc.child.kill('SIGTERM');
    await broker.proc.exited;
    await sleep(2_000);
    broker = await startMosquitto(auth, { port: broker.port });
    await sleep(40_000);

    agents.forEach((a) => a.pause());
    await allAcked(agents, 90_000);

    // Figures straight from PostgreSQL, per node and boot.
    const db = new pg.Client({ connectionString: storage });
    await db.connect();
    const { rows } = await db.query<{ name: string; boot: string; n: string; d: string; lo: string; hi: string; next_seq: string | null }>(
      `SELECT n.name, b.boot, count(*) AS n, count(DISTINCT s.seq) AS d, min(s.seq) AS lo, max(s.seq) AS hi, w.next_seq
       FROM samples s JOIN nodes n ON n.id = s.node_id JOIN boots b ON b.id = s.boot_id
       LEFT JOIN ack_watermarks w ON w.boot_id = b.id
       GROUP BY n.name, b.boot, w.next_seq`,
    );
    await db.end();
    const byNode = new Map(rows.map((r) => [r.name, r]));
    let sent = 0;
    let stored = 0;
    const problems: string[] = [];
    agents.forEach((agent, i) => {
      const node = nodes[i]!;
      const r = byNode.get(node);
      const last = agent.replayer.spool.nextSeq - 1;
      sent += last + 1;
      stored += Number(r?.d ?? 0);
      if (!r || r.boot !== agent.bootId) return problems.push(`${node}: no rows for its boot`);
      if (Number(r.n) !== Number(r.d)) problems.push(`${node}: ${Number(r.n) - Number(r.d)} duplicate rows`);
      if (Number(r.lo) !== 0 || Number(r.hi) !== last || Number(r.d) !== last + 1)
        problems.push(`${node}: seqs ${r.lo}..${r.hi} (${r.d} distinct), sent 0..${last}`);
      if (Number(r.next_seq) !== last + 1) problems.push(`${node}: watermark ${r.next_seq}, last seq ${last}`);
    });
    const rewinds = agents.reduce((n, a) => n + a.replayer.stats.rewinds, 0);
    console.log(
      `[fault] two hubs, kill -9 and broker restart, ${NODES} nodes at ${1000 / INTERVAL_MS} Hz: sent ${sent}, stored ${stored}, problems ${problems.length}, agent rewinds ${rewinds}, per-hub stored before the kill ${shares.join(' / ')}`,
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(stored).toBe(sent);
    expect(rows.length).toBe(NODES); // one boot per node, nothing stored under a stray name

    // The dashboard API: both hubs and a stand-alone web process over the same database answer alike.
    const webPort = await freePort();
    const web = spawnProcess(process.execPath, [
      CLI,
      'web',
      '--storage',
      storage,
      '--http-port',
      String(webPort),
      '--data-dir',
      tempDir(),
      '--insecure',
      '--log-level',
      'warn',
    ]);
    await web.waitForLine(/remonitor: dashboard at/);
    const node = nodes[7]!;
    const to = Date.now();
    const answers = await Promise.all(
      [...apis, `http://127.0.0.1:${webPort}`].map(async (api) => {
        const list = await getJson<{ nodes: { name: string; last_seen_ms: number }[] }>(`${api}/api/nodes`);
        const series = await getJson<{ points: number }>(`${api}/api/nodes/${node}/series?metrics=cpu_pct&from=${to - 600_000}&to=${to}`);
        return {
          status: [list.status, series.status],
          nodes: list.body.nodes.length,
          lastSeen: list.body.nodes.find((n) => n.name === node)?.last_seen_ms,
          series: series.body,
        };
      }),
    );
    for (const a of answers) {
      expect(a.status).toEqual([200, 200]);
      expect(a.nodes).toBe(NODES);
      expect(a).toEqual({ ...answers[0], status: [200, 200] });
    }
  }, 400_000);
});
