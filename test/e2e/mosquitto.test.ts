// The same pipeline with the hub on a real Mosquitto broker (Debian's, started by the test).
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { cleanup, getJson, quietLog, runCleanups, startHub, waitFor } from '../helpers/parts.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);

describe('hub on an external Mosquitto broker', () => {
  it('stores what the agent sent through Mosquitto', async () => {
    const { url } = await startMosquitto();
    const { hub, api } = await startHub(url);
    // Scripted readings stand in for the OS so the stored values can be checked exactly.
    const sampler = scriptedSampler((i) => ({ cpu_pct: 5 * i, swap_pct: 1.5 }));
    const agent = new Agent({
      brokerUrl: url,
      node: 'via-mosquitto',
      intervalMs: 250,
      processIntervalMs: 5000,
      sampler,
      birthRecord: async () => ({
        v: 1,
        agent_version: 't',
        hostname: 'h',
        os: 'o',
        kernel: 'k',
        arch: 'x64',
        cpu_model: 'c',
        cpu_cores: 2,
        mem_total_bytes: 1,
        disks: [],
        boot_time_ms: 0,
        interval_ms: 250,
      }),
      log: quietLog,
    });
    await agent.start();
    cleanup(() => agent.stop());
    await waitFor('5 samples stored', () => hub.ingest.stats.stored >= 5);
    const { body } = await getJson(`${api}/api/nodes/via-mosquitto/series?metrics=cpu_pct,swap_pct&from=-10m`);
    const [, cpu, swap] = body.data;
    expect(cpu).toEqual(cpu.map((_: number, i: number) => 5 * i));
    expect(swap.every((v: number) => v === 1.5)).toBe(true);
    const nodes = await getJson(`${api}/api/nodes`);
    expect(nodes.body.nodes[0]).toMatchObject({ name: 'via-mosquitto', status: 'online' });
  });
});
