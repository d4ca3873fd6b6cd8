// Fault 1: a fleet of simulated agents at 1 sample/s; the hub process (`remonitor up --no-agent`,
// broker embedded) is kill -9'd mid-run and restarted on the same ports. 0 lost, 0 duplicates
// stored, agents reconnect within seconds, backlog drained; then SIGTERM stops the hub with exit 0.
// Agents run in this process with scripted samplers (they stand in for the OS only).
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, waitFor } from '../helpers/parts.ts';
import { allAcked, figures, HubProcess, printFigures, simAgent } from './fleet.ts';

afterEach(runCleanups);

const AGENTS = Number(process.env.REMONITOR_FAULT_AGENTS ?? 200);

describe('fault 1: hub kill -9 under a fleet', () => {
  it(`${AGENTS} agents at 1 Hz lose nothing and store nothing twice`, async () => {
    const hub = await HubProcess.up();
    await hub.start();
    const nodes = Array.from({ length: AGENTS }, (_, i) => `sim-${String(i).padStart(3, '0')}`);
    const agents = nodes.map((node) => simAgent(hub.brokerUrl, node));
    await Promise.all(agents.map((a) => a.start()));
    await waitFor('every agent acked once', () => agents.every((a) => a.replayer.spool.acked >= 1), 30_000, 200);
    await new Promise((r) => setTimeout(r, 4000));

    await hub.kill9();
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    await hub.start();
    const restartedAt = Date.now();
    // Reconnected: every agent has had an ack from the new hub process.
    const acksBefore = agents.map((a) => a.replayer.stats.acks);
    await waitFor('every agent acked by the new hub', () => agents.every((a, i) => a.replayer.stats.acks > acksBefore[i]!), 30_000, 200);
    const reconnectedMs = Date.now() - restartedAt;
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.all(agents.map((a) => a.pause()));
    await allAcked(agents, 45_000);
    const drainedMs = Date.now() - restartedAt;
    expect(await hub.term()).toBe(0);

    const f = figures(hub.dbPath, agents, nodes);
    printFigures(`hub kill -9, ${AGENTS} agents at 1 Hz`, f, {
      'down (ms)': restartedAt - killedAt,
      'all reconnected and acked after (ms)': reconnectedMs,
      'backlog drained after (ms)': drainedMs,
    });
    expect(f.lost).toBe(0);
    expect(f.duplicates).toBe(0);
    expect(f.sent).toBeGreaterThan(AGENTS * 8);
  });
});
