// Fault 7: agents and the hub on an external Mosquitto (started by the test), which is restarted
// mid-run on the same port. Mosquitto runs without persistence, so whatever it held is gone:
// only the agents' spools and the hub's acks can make up for it. 0 lost, 0 duplicates.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, MOSQUITTO } from '../helpers/mosquitto.ts';
import { runCleanups, spawnProcess, startHub, tempDir, waitFor, type Spawned } from '../helpers/parts.ts';
import { allAcked, figures, HUB_ACK_INTERVAL_MS, printFigures, simAgent } from './fleet.ts';

afterEach(runCleanups);

async function mosquittoOn(port: number): Promise<Spawned> {
  const dir = tempDir('remonitor-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'log_dest stderr', ''].join('\n'),
  );
  const proc = spawnProcess(MOSQUITTO, ['-c', conf]);
  await waitFor('mosquitto accepting connections', async () => {
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 1000 });
    await client.endAsync();
    return true;
  });
  return proc;
}

describe('fault 7: external Mosquitto restarted', () => {
  it('loses nothing across a broker restart', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    let mosquitto = await mosquittoOn(port);
    const dataDir = tempDir();
    await startHub(url, dataDir, { ackIntervalMs: HUB_ACK_INTERVAL_MS });
    const nodes = Array.from({ length: 10 }, (_, i) => `mq-${i}`);
    const agents = nodes.map((n) => simAgent(url, n, { intervalMs: 100, replayPerSecond: 500 }));
    await Promise.all(agents.map((a) => a.start()));
    await waitFor('acks flowing', () => agents.every((a) => a.replayer.spool.acked > 5), 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    mosquitto.child.kill('SIGTERM');
    await mosquitto.exited;
    await new Promise((r) => setTimeout(r, 2000));
    mosquitto = await mosquittoOn(port);
    await new Promise((r) => setTimeout(r, 3000));
    agents.forEach((a) => a.pause());
    await allAcked(agents, 40_000);
    const f = figures(join(dataDir, 'remonitor.db'), agents, nodes);
    printFigures('Mosquitto restarted, 10 agents at 10 Hz', f, { rewinds: agents.reduce((n, a) => n + a.replayer.stats.rewinds, 0) });
    expect(f.lost).toBe(0);
    expect(f.duplicates).toBe(0);
  });
});
