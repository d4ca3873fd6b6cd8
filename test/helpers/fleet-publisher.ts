// A plain MQTT client that publishes what an agent would (status, samples) for nodes a test names,
// so that tests control the exact values the hub stores.
import { connectAsync, type MqttClient } from 'mqtt';
import { encodeSample, topics, type Sample } from '../../protocol/index.ts';
import { cleanup } from './parts.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';

export async function fakeAgentClient(url: string): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4 });
  cleanup(() => client.endAsync());
  return client;
}

/** A realistic sample with the given overrides, numbered `seq` at `ts_ms`. */
export function sampleAt(seq: number, ts_ms: number, overrides: Partial<Sample> = {}): Sample {
  return { ...realisticPi4Sample(), boot: 'b00710000000test', seq, ts_ms, ...overrides };
}

export async function publishNode(client: MqttClient, node: string, samples: Sample[], status: 'online' | 'offline' = 'online'): Promise<void> {
  await client.publishAsync(topics.status(node), status, { qos: 1, retain: true });
  for (const s of samples) await client.publishAsync(topics.metrics(node), Buffer.from(encodeSample(s)), { qos: 1 });
}
