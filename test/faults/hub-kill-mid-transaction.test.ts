// Faults 2 and 6: the hub process is kill -9'd many times while agents publish fast, so it dies
// between the broker taking a sample (the broker is embedded in it) and its own commit, and mid-transaction.
// After each kill, before the restart, every sample any agent saw acknowledged must be in the
// database. Then it writes for a while under continuous dashboard reads: PRAGMA integrity_check is
// ok, nothing is lost or stored twice, and the WAL stays bounded.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, waitFor } from '../helpers/parts.ts';
import { allAcked, figures, HubProcess, printFigures, simAgent } from './fleet.ts';

afterEach(runCleanups);

const KILLS = 6;
const AGENTS = 20;

function walBytes(dbPath: string): number {
  try {
    return statSync(`${dbPath}-wal`).size;
  } catch {
    return 0;
  }
}

describe('faults 2 and 6: hub killed mid-transaction, repeatedly', () => {
  it(`keeps every acked row through ${KILLS} kills, with integrity and a bounded WAL`, async () => {
    const hub = await HubProcess.up();
    await hub.start();
    const nodes = Array.from({ length: AGENTS }, (_, i) => `busy-${i}`);
    // 20 agents × 20 samples/s: every 200 ms batch holds about 80 samples when the kill comes.
    const agents = nodes.map((n) => simAgent(hub.brokerUrl, n, { intervalMs: 50, replayPerSecond: 1000 }));
    await Promise.all(agents.map((a) => a.start()));
    let takenNotAcked = 0;
    let ackedChecked = 0;
    for (let k = 0; k < KILLS; k++) {
      await waitFor('acks flowing', () => agents.every((a) => a.replayer.spool.acked > 0), 20_000, 50);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
      // Samples the broker took (sent on a live connection, or PUBACKed replays) but the hub had not yet acked.
      takenNotAcked += agents.reduce((n, a) => n + Math.max(0, a.stats.published - a.replayer.spool.acked), 0);
      await hub.kill9();
      const acked = agents.map((a) => a.replayer.spool.acked);
      // Every acked sample is there (the database opened after the crash, as the next hub would).
      const db = new Database(hub.dbPath);
      const count = db.prepare<[string, string, number], { n: number }>(
        'SELECT count(DISTINCT seq) AS n FROM samples s JOIN nodes ON nodes.id = s.node_id WHERE nodes.name = ? AND s.boot = ? AND s.seq < ?',
      );
      agents.forEach((a, i) => {
        expect(count.get(nodes[i]!, a.bootId, acked[i]!)!.n, `${nodes[i]} acked up to ${acked[i]}`).toBe(acked[i]);
        ackedChecked += acked[i]!;
      });
      db.close();
      await hub.start();
    }

    // Then a while of writes under continuous reads of the dashboard API.
    const api = `http://127.0.0.1:${(await hub.proc!.waitForLine(/dashboard at http:\/\/[\d.]+:(\d+)\//))[1]}`;
    let reads = 0;
    let maxWal = 0;
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      const node = nodes[reads % AGENTS]!;
      const res = await fetch(`${api}/api/nodes/${node}/series?metrics=cpu_pct,mem_pct&from=-1h`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      reads++;
      maxWal = Math.max(maxWal, walBytes(hub.dbPath));
    }
    agents.forEach((a) => a.pause());
    await allAcked(agents, 30_000);
    expect(await hub.term()).toBe(0);
    const db = new Database(hub.dbPath);
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    const f = figures(hub.dbPath, agents, nodes);
    printFigures(`hub kill -9 x${KILLS} mid-transaction, ${AGENTS} agents at 20 Hz`, f, {
      'acked samples checked after kills': ackedChecked,
      'taken by the broker but not yet acked at the kills': takenNotAcked,
      'API reads during writes': reads,
      'max WAL (KB)': Math.round(maxWal / 1024),
      integrity,
    });
    expect(integrity).toBe('ok');
    expect(f.lost).toBe(0);
    expect(f.duplicates).toBe(0);
    expect(takenNotAcked).toBeGreaterThan(0);
    expect(maxWal).toBeLessThan(64 * 1024 * 1024);
  });
});
