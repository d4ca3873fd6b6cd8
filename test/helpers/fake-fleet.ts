// A made-up fleet for dashboard tests: one plain MQTT client publishes what many agents would
// (retained info and status, then samples) for nodes named fleet-0000…, with values a test chooses.
// A fake for the fleet's machines only; the broker, hub, store and stream it reaches are real.
import type { MqttClient } from 'mqtt';
import { encodeInfo, encodeSample, topics, type Sample } from '../../protocol/index.ts';
import { fakeAgentClient, sampleAt } from './fleet-publisher.ts';

export interface FakeNode {
  name: string;
  status: 'online' | 'offline';
  /** The sample's values beyond the realistic Pi 4 defaults. */
  sample: (seq: number) => Partial<Sample>;
}

export const fleetName = (i: number): string => `fleet-${String(i).padStart(4, '0')}`;

export async function publishInfo(client: MqttClient, name: string, agentVersion = '1.0.0'): Promise<void> {
  const info = encodeInfo({
    v: 1,
    agent_version: agentVersion,
    hostname: `${name}.lan`,
    os: 'Fake Linux',
    kernel: '6.6',
    arch: 'arm64',
    cpu_model: 'Cortex-A72',
    cpu_cores: 4,
    mem_total_bytes: 4e9,
    disks: [],
    boot_time_ms: Date.now() - 86_400_000,
    interval_ms: 1000,
  });
  await client.publishAsync(topics.info(name), Buffer.from(info), { qos: 1, retain: true });
}

/** Publishes info, status and one sample per node; answers the client, for more samples. */
export async function publishFleet(brokerUrl: string, fleet: readonly FakeNode[]): Promise<MqttClient> {
  const client = await fakeAgentClient(brokerUrl);
  const now = Date.now();
  // In slices, so the broker's in-flight window is not overrun by a thousand nodes at once.
  for (let i = 0; i < fleet.length; i += 100) {
    await Promise.all(
      fleet.slice(i, i + 100).map(async (n) => {
        await publishInfo(client, n.name);
        await client.publishAsync(topics.metrics(n.name), Buffer.from(encodeSample(sampleAt(1, now, n.sample(1)))), { qos: 1 });
        await client.publishAsync(topics.status(n.name), n.status, { qos: 1, retain: true });
      }),
    );
  }
  return client;
}

/** Publishes a sample of each of `fleet` every `everyMs` until the returned function is called. */
export function feedFleet(client: MqttClient, fleet: readonly FakeNode[], everyMs: number): () => void {
  let seq = 2;
  const timer = setInterval(() => {
    const now = Date.now();
    seq++;
    for (const n of fleet) client.publish(topics.metrics(n.name), Buffer.from(encodeSample(sampleAt(seq, now, n.sample(seq)))), { qos: 0 });
  }, everyMs);
  return () => clearInterval(timer);
}
