// The agent as a real process: the CLI and the single-file bundle, killed and stopped by signals.
import { copyFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeInfo, decodeSample, topics, type NodeInfo } from '../../protocol/index.ts';
import { CLI, cleanup, getJson, REPO, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

async function nodeStatus(api: string, node: string): Promise<string | undefined> {
  const { body } = await getJson(`${api}/api/nodes`);
  return body.nodes.find((n: { name: string }) => n.name === node)?.status;
}

describe('agent process', () => {
  it('shows offline at once when the agent is killed with SIGKILL (its last will)', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const agent = spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', 'doomed', '--interval', '250ms']);
    await waitFor('doomed online', async () => (await nodeStatus(api, 'doomed')) === 'online');
    agent.child.kill('SIGKILL');
    await agent.exited;
    await waitFor('doomed offline', async () => (await nodeStatus(api, 'doomed')) === 'offline', 10_000);
  });

  it('publishes offline and exits 0 on SIGTERM', async () => {
    const { url } = await startBroker();
    const { api, hub } = await startHub(url);
    const agent = spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', 'polite', '--interval', '250ms']);
    await waitFor('samples from polite', () => hub.ingest.stats.stored >= 2);
    agent.child.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(0);
    // Stored with the next ingest batch (every 300 ms), not a will after a keepalive timeout.
    await waitFor('polite offline', async () => (await nodeStatus(api, 'polite')) === 'offline', 2_000);
  });

  it('refuses bad options with every problem at once', async () => {
    const agent = spawnProcess(process.execPath, [CLI, 'agent', '--broker', 'http://x', '--node', 'bad name!', '--interval', '10ms']);
    const { code } = await agent.exited;
    expect(code).toBe(2);
    const out = agent.output();
    expect(out).toMatch(/--broker: must be an mqtt:\/\/.*"http:\/\/x"/);
    expect(out).toMatch(/--node: node name "bad name!" contains " "/);
    expect(out).toMatch(/--interval: must be between 250ms and 1h \(got "10ms"\)/);
  });

  it('runs as a single-file bundle from an empty folder, with no node_modules', async () => {
    const { url } = await startBroker();
    const dir = tempDir('remonitor-bundle-');
    copyFileSync(join(REPO, 'dist/remonitor-agent.mjs'), join(dir, 'remonitor-agent.mjs'));
    // A plain subscriber, so that the test sees what the bundle put on the wire.
    const sub = await connectAsync(url, { protocolVersion: 4 });
    cleanup(() => sub.endAsync());
    const received: Buffer[] = [];
    let info: NodeInfo | undefined;
    sub.on('message', (topic, payload) => (topic === topics.info('bundled') ? (info = decodeInfo(payload)) : received.push(payload)));
    await sub.subscribeAsync([topics.metrics('bundled'), topics.info('bundled')], { qos: 1 });
    const agent = spawnProcess(process.execPath, ['remonitor-agent.mjs', '--broker', url, '--node', 'bundled', '--interval', '250ms'], {
      cwd: dir,
      env: { NODE_PATH: '' },
    });
    await waitFor('2 samples from the bundle', () => received.length >= 2);
    const sample = decodeSample(received[1]!);
    expect(sample.seq).toBe(1);
    expect(sample.mem_total_bytes).toBeGreaterThan(0);
    // The bundle reads its birth record in a child process running itself (birth-record-child.ts):
    // this machine's figures, this agent's interval, and no fallback warning in the agent's log.
    await waitFor('the birth record', () => info !== undefined);
    expect(info).toMatchObject({ hostname: hostname(), cpu_cores: cpus().length, mem_total_bytes: totalmem(), interval_ms: 250 });
    expect(info!.disks.length).toBeGreaterThan(0);
    expect(agent.output()).not.toMatch(/birth record/);
  });
});
