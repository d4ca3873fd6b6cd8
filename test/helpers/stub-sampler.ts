// A Sampler that returns scripted readings. It stands in for the OS (what /proc would say), so a
// test can check that exactly these values travel through broker, hub and SQLite.
import { Agent } from '../../edge-agent/agent.ts';
import type { Reading, Sampler } from '../../edge-agent/sampler.ts';
import type { NodeInfo } from '../../protocol/index.ts';
import { cleanup, quietLog } from './parts.ts';

export function scriptedSampler(readings: (i: number) => Reading): Sampler & { calls: number } {
  const sampler = {
    calls: 0,
    async read() {
      return readings(sampler.calls++);
    },
  };
  return sampler;
}

/** The birth record of a made-up Pi sampling every `intervalMs`, for an agent whose sampler is scripted. */
export const stubBirthOf = (intervalMs: number) => async (): Promise<NodeInfo> => ({
  v: 1,
  agent_version: 'test',
  hostname: 'stub-host',
  os: 'Stub OS',
  kernel: '6.1',
  arch: 'arm64',
  cpu_model: 'Cortex-A72',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: 0,
  interval_ms: intervalMs,
});

export const stubBirth = stubBirthOf(250);

/** A real agent in this process, sampling `readings` every 250 ms (processes once a minute), stopped at cleanup. */
export async function startScriptedAgent(brokerUrl: string, node: string, readings: (i: number) => Reading): Promise<Agent> {
  const agent = new Agent({
    brokerUrl,
    node,
    intervalMs: 250,
    processIntervalMs: 60_000,
    sampler: scriptedSampler(readings),
    birthRecord: stubBirth,
    log: quietLog,
  });
  await agent.start();
  cleanup(() => agent.stop());
  return agent;
}
