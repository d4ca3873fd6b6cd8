// Fault 4: the agent process (`remonitor agent --interval 250ms`) is kill -9'd many times, at
// random moments (so sometimes while it writes its spool). The spool recovers on every start, no
// seq is ever given twice, and nothing the agent sent is lost. Also: SIGTERM ends it with exit 0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../edge-agent/spool.ts';
import { CLI, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const KILLS = 12;

describe('fault 4: agent kill -9 mid-write', () => {
  it(`recovers its spool ${KILLS} times and never reuses a seq`, async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const { hub } = await startHub(url, dataDir);
    const spoolDir = tempDir('remonitor-spool-');
    const run = (interval: string) =>
      spawnProcess(process.execPath, [
        CLI,
        'agent',
        '--broker',
        url,
        '--node',
        'killed',
        '--interval',
        interval,
        '--spool-dir',
        spoolDir,
        '--log-level',
        'warn',
      ]);

    for (let i = 0; i < KILLS; i++) {
      const agent = run('250ms');
      const before = hub.ingest.stats.received;
      await waitFor('the agent sending', () => hub.ingest.stats.received > before, 20_000, 20);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    const boot = (JSON.parse(readFileSync(join(spoolDir, 'spool.json'), 'utf8')) as { boot: string }).boot;
    // A last, graceful run delivers whatever the kills left unacknowledged.
    const receivedBefore = hub.ingest.stats.received;
    const last = run('250ms');
    // Its own samples arriving: it is past start-up, so SIGTERM finds its handler (a slow start took it for a kill).
    await waitFor('acks reaching the last run', () => hub.acks!.next('killed', boot) > 0 && hub.ingest.stats.received > receivedBefore, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    last.child.kill('SIGTERM');
    expect((await last.exited).code).toBe(0);
    const spool = new Spool({ dir: spoolDir });
    const sent = spool.nextSeq;
    const unacked = sent - spool.acked;
    await spool.close();
    if (unacked > 0) {
      // Sent after the last ack arrived: one more start sends them (and takes one more sample).
      const received = hub.ingest.stats.received;
      const again = run('1h');
      await waitFor('the rest acked', () => hub.acks!.next('killed', boot) > sent && hub.ingest.stats.received > received, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      again.child.kill('SIGTERM');
      expect((await again.exited).code).toBe(0);
    }
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dataDir, 'remonitor.db'), { readonly: true });
    const rows = db
      .prepare<[], { seq: number; n: number }>(
        `SELECT seq, count(*) AS n FROM samples s JOIN nodes ON nodes.id = s.node_id WHERE nodes.name = 'killed' GROUP BY seq ORDER BY seq`,
      )
      .all();
    db.close();
    const reused = rows.filter((r) => r.n > 1).length;
    const stored = rows.filter((r) => r.seq < sent).length;
    const gaps = rows.length > 0 ? rows.at(-1)!.seq + 1 - rows.length : 0;
    console.log(`[fault] agent kill -9 x${KILLS}: sent ${sent}, stored ${stored}, duplicates ${reused}, lost ${sent - stored}, seq gaps ${gaps}`);
    expect(reused).toBe(0);
    expect(gaps).toBe(0);
    expect(sent - stored).toBe(0);
  });
});
