// A hub with the broker in its own process (`remonitor up`) takes the fleet's messages from the
// broker directly (hub/ingest/fleet-link.ts): what a node retained before the hub started still reaches
// it, and samples are stored and acked as over MQTT.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAck, encodeInfo, encodeSample, topics, type NodeInfo } from '../../protocol/index.ts';
import { fakeAgentClient, sampleAt } from '../helpers/fleet-publisher.ts';
import { getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const birth: NodeInfo = {
  v: 1,
  agent_version: 'test',
  hostname: 'early-host',
  os: 'Stub OS',
  kernel: '6.1',
  arch: 'arm64',
  cpu_model: 'Cortex-A76',
  cpu_cores: 4,
  mem_total_bytes: 8e9,
  disks: [],
  boot_time_ms: 0,
  interval_ms: 1000,
};

describe('ingest inside the broker’s process', () => {
  it('gets what a node retained before the hub started, then stores and acks its samples', async () => {
    const { broker, url } = await startBroker();
    const node = await fakeAgentClient(url);
    // Before any hub: the node's status and birth record wait in the broker, retained.
    await node.publishAsync(topics.status('early'), 'online', { qos: 1, retain: true });
    await node.publishAsync(topics.info('early'), Buffer.from(encodeInfo(birth)), { qos: 1, retain: true });

    const { hub, api } = await startHub(url, undefined, { embeddedBroker: broker });
    const listed = await waitFor('the retained status and birth record stored', async () => {
      const nodes = (await getJson(`${api}/api/nodes`)).body.nodes as { name: string; status: string; info: NodeInfo | null }[];
      return nodes.find((n) => n.name === 'early' && n.status === 'online' && n.info);
    });
    expect(listed.info?.cpu_model).toBe('Cortex-A76');

    const acks: number[] = [];
    node.on('message', (_topic, payload) => acks.push(decodeAck(payload).next));
    await node.subscribeAsync(topics.ack('early'), { qos: 1 });
    const t0 = Date.now() - 50_000;
    for (let seq = 0; seq < 50; seq++) await node.publishAsync(topics.metrics('early'), Buffer.from(encodeSample(sampleAt(seq, t0 + seq * 1000))), { qos: 1 });

    await waitFor('every sample acked', () => acks.at(-1) === 50);
    expect(hub.ingest.stats.stored).toBe(50);
    const series = await getJson(`${api}/api/nodes/early/series?metrics=cpu_pct&from=-5m`);
    expect((series.body.data as number[][])[0]).toHaveLength(50);
  });
});
