// Agent → embedded broker → hub → SQLite → REST API, with real parts on ephemeral ports.
import { totalmem } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { createAgent } from '../../edge-agent/main.ts';
import { getJson, quietLog, runCleanups, startBroker, startHub, waitFor, cleanup } from '../helpers/parts.ts';
import { scriptedSampler, stubBirthOf } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);

const birth = stubBirthOf(250);

describe('pipeline on the embedded broker', () => {
  it('stores the samples the agent sent, in order, with the right values', async () => {
    const { url } = await startBroker();
    const { api, hub } = await startHub(url);
    // The OS sampler is replaced by a scripted one here so the values are known exactly.
    const sampler = scriptedSampler((i) => ({
      cpu_pct: 10 + i,
      mem_pct: 50 + i / 10,
      mem_total_bytes: 4e9,
      mem_used_bytes: 2e9 + i * 1000,
      filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 8e9, used_pct: 25 }],
      net: [{ iface: 'eth0', rx_bps: 1000 * i, tx_bps: 10 }],
      temp_c: 48.5,
    }));
    const agent = new Agent({ brokerUrl: url, node: 'pi-kitchen', intervalMs: 250, processIntervalMs: 5000, sampler, birthRecord: birth, log: quietLog });
    await agent.start();
    cleanup(() => agent.stop());

    await waitFor('6 samples stored', () => hub.ingest.stats.stored >= 6);
    const { status, body } = await getJson(`${api}/api/nodes/pi-kitchen/series?metrics=cpu_pct,mem_pct,disk_pct,net_rx_bps,temp_c&from=-1h`);
    expect(status).toBe(200);
    const [times, cpu, mem, disk, rx, temp] = body.data as number[][];
    expect(times!.length).toBeGreaterThanOrEqual(6);
    // Times are seconds, ascending.
    expect(times!.every((t, i) => i === 0 || t > times![i - 1]!)).toBe(true);
    expect(Math.abs(times![0]! * 1000 - Date.now())).toBeLessThan(60_000);
    const n = cpu!.length;
    expect(cpu).toEqual(Array.from({ length: n }, (_, i) => 10 + i));
    expect(mem).toEqual(Array.from({ length: n }, (_, i) => 50 + i / 10));
    expect(disk).toEqual(Array(n).fill(25));
    expect(rx).toEqual(Array.from({ length: n }, (_, i) => 1000 * i));
    expect(temp).toEqual(Array(n).fill(48.5));

    const nodes = await getJson(`${api}/api/nodes`);
    const node = nodes.body.nodes.find((x: { name: string }) => x.name === 'pi-kitchen');
    expect(node.status).toBe('online');
    expect(node.info.cpu_model).toBe('Cortex-A72');
    expect(node.latest.temp_c).toBe(48.5);
    expect(Date.now() - node.last_seen_ms).toBeLessThan(10_000);
  });

  it('runs the real collector of this machine', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const agent = createAgent({ brokerUrl: url, node: 'this-machine', intervalMs: 500, processIntervalMs: 500 }, quietLog);
    await agent.start();
    cleanup(() => agent.stop());
    const detail = await waitFor('a sample with rates and processes', async () => {
      const { body } = await getJson(`${api}/api/nodes/this-machine`);
      return body.sample?.cpu_pct !== undefined && body.processes && body.info ? body : null;
    });
    expect(detail.sample.mem_total_bytes).toBe(totalmem());
    expect(detail.sample.cpu_pct).toBeGreaterThanOrEqual(0);
    expect(detail.sample.cpu_pct).toBeLessThanOrEqual(100);
    expect(detail.sample.filesystems.length).toBeGreaterThan(0);
    expect(detail.processes.top_mem.length).toBeGreaterThan(0);
    expect(detail.info.cpu_cores).toBeGreaterThan(0);
  });

  it('rejects malformed payloads, counts them, and keeps storing other nodes', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url);
    const { connectAsync } = await import('mqtt');
    const { encode } = await import('cbor-x');
    const evil = await connectAsync(url, { protocolVersion: 4 });
    cleanup(() => evil.endAsync());
    const sampler = scriptedSampler((i) => ({ cpu_pct: i }));
    const agent = new Agent({ brokerUrl: url, node: 'good', intervalMs: 250, processIntervalMs: 5000, sampler, birthRecord: birth, log: quietLog });
    await agent.start();
    cleanup(() => agent.stop());

    const bad: [string, Buffer][] = [
      ['random bytes', Buffer.from([0xff, 0x13, 0x37, 0x00, 0x9f])],
      [
        'wrong types',
        Buffer.from(
          encode(
            new Map<number, unknown>([
              [0, 1],
              [1, 'b'],
              [2, 'seven'],
              [3, Date.now()],
            ]),
          ),
        ),
      ],
      ['oversized', Buffer.alloc(70 * 1024, 1)],
      [
        'unknown version',
        Buffer.from(
          encode(
            new Map<number, unknown>([
              [0, 99],
              [1, 'b'],
              [2, 1],
              [3, Date.now()],
            ]),
          ),
        ),
      ],
      ['a text instead of a map', Buffer.from(encode('hello'))],
    ];
    for (const [, payload] of bad) await evil.publishAsync('remonitor/evil/metrics', payload, { qos: 1 });
    await waitFor('all 5 rejected', () => hub.ingest.stats.rejected >= bad.length);
    const storedBefore = hub.ingest.stats.stored;
    await waitFor('good node keeps being stored', () => hub.ingest.stats.stored >= storedBefore + 3);
    expect(hub.ingest.stats.rejected).toBe(bad.length);
    const reasons = Object.keys(hub.ingest.stats.rejectedByReason).join('\n');
    expect(reasons).toMatch(/not valid CBOR|expected a CBOR map/);
    expect(reasons).toMatch(/limit is 65536/);
    expect(reasons).toMatch(/seq/);
    expect(reasons).toMatch(/unsupported version/);
    const { body } = await getJson(`${api}/api/nodes`);
    expect(body.nodes.map((n: { name: string }) => n.name)).toEqual(['good']);
  });
});
