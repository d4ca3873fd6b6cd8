// Helpers for the fault tests: in-process agents with scripted samplers (they stand in for the OS
// only), a hub process that the test can kill -9 and restart on the same ports, and the figures
// (sent, stored, duplicates, lost) read from the hub's SQLite file.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, type AgentOptions } from '../../edge-agent/agent.ts';
import type { NodeInfo } from '../../protocol/index.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { CLI, cleanup, quietLog, spawnProcess, tempDir, waitFor, type Spawned } from '../helpers/parts.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';

export const birth = async (): Promise<NodeInfo> => ({
  v: 1,
  agent_version: 'test',
  hostname: 'sim',
  os: 'Sim OS',
  kernel: '6.1',
  arch: 'arm64',
  cpu_model: 'sim',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: 0,
  interval_ms: 1000,
});

export const FAST_BACKOFF = { baseMs: 200, maxMs: 1000, jitter: 0.3 };

/**
 * These agents give up on an ack after 3 s (10 s by default) so that faults resolve quickly; the
 * hubs of these tests ack each node at least once a second (5 s by default), keeping the ratio.
 */
export const ACK_TIMEOUT_MS = 3000;
export const HUB_ACK_INTERVAL_MS = 1000;
export const HUB_ACK_INTERVAL = ['--ack-interval', `${HUB_ACK_INTERVAL_MS}ms`];

export function simAgent(brokerUrl: string, node: string, extra: Partial<AgentOptions> = {}): Agent {
  const agent = new Agent({
    brokerUrl,
    node,
    intervalMs: 1000,
    processIntervalMs: 3_600_000,
    sampler: scriptedSampler((i) => ({ cpu_pct: i % 100, mem_pct: 40 })),
    birthRecord: birth,
    log: quietLog,
    backoff: FAST_BACKOFF,
    spoolDir: tempDir('remonitor-spool-'),
    ackTimeoutMs: ACK_TIMEOUT_MS,
    ...extra,
  });
  cleanup(() => agent.stop());
  return agent;
}

/** A `remonitor up --no-agent` (or other command) process on fixed ports, restartable after a kill. */
export class HubProcess {
  proc: Spawned | null = null;
  readonly dataDir = tempDir('remonitor-hubdata-');
  mqttPort = 0;

  constructor(private readonly args: (self: HubProcess) => string[]) {}

  static async up(): Promise<HubProcess> {
    const hub = new HubProcess((h) => [
      'up',
      '--insecure',
      '--no-agent',
      '--mqtt-port',
      String(h.mqttPort),
      '--http-port',
      '0',
      '--data-dir',
      h.dataDir,
      '--log-level',
      'warn',
      ...HUB_ACK_INTERVAL,
    ]);
    hub.mqttPort = await freePort();
    return hub;
  }

  get brokerUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get dbPath(): string {
    return join(this.dataDir, 'remonitor.db');
  }

  async start(): Promise<void> {
    this.proc = spawnProcess(process.execPath, [CLI, ...this.args(this)]);
    await this.proc.waitForLine(/remonitor: (dashboard|hub) /, 20_000);
  }

  async kill9(): Promise<void> {
    const proc = this.proc!;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM, and the exit code (0 expected: flush, ack, close). */
  async term(): Promise<number | null> {
    const proc = this.proc!;
    proc.child.kill('SIGTERM');
    const { code } = await proc.exited;
    return code;
  }
}

export interface Figures {
  sent: number;
  stored: number;
  duplicates: number;
  lost: number;
}

/**
 * Figures from the hub's database: `sent` is every seq each agent gave out (its spool's next seq),
 * `stored` the distinct (node, boot, seq) rows, `duplicates` rows beyond one per seq, `lost` the seqs
 * never stored.
 */
export function figures(dbPath: string, agents: Agent[], nodes: string[]): Figures {
  const db = new Database(dbPath, { readonly: true });
  try {
    let sent = 0;
    let stored = 0;
    let rows = 0;
    const count = db.prepare<[string, string], { n: number; d: number; lo: number | null; hi: number | null }>(
      `SELECT count(*) AS n, count(DISTINCT s.seq) AS d, min(s.seq) AS lo, max(s.seq) AS hi
       FROM samples s JOIN nodes ON nodes.id = s.node_id WHERE nodes.name = ? AND s.boot = ?`,
    );
    agents.forEach((agent, i) => {
      const sentHere = agent.replayer.spool.nextSeq;
      const r = count.get(nodes[i]!, agent.bootId)!;
      sent += sentHere;
      stored += r.d;
      rows += r.n;
    });
    return { sent, stored, duplicates: rows - stored, lost: sent - stored };
  } finally {
    db.close();
  }
}

export function printFigures(name: string, f: Figures, extra: Record<string, unknown> = {}): void {
  console.log(
    `[fault] ${name}: sent ${f.sent}, stored ${f.stored}, duplicates ${f.duplicates}, lost ${f.lost}${Object.entries(extra)
      .map(([k, v]) => `, ${k} ${String(v)}`)
      .join('')}`,
  );
}

/** Waits until every agent's spool is fully acknowledged (the hub has committed all it was sent). */
export async function allAcked(agents: Agent[], timeoutMs: number): Promise<void> {
  await waitFor('every agent fully acknowledged', () => agents.every((a) => a.replayer.spool.acked >= a.replayer.spool.nextSeq), timeoutMs, 200);
}
