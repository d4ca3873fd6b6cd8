// An outside client with nothing of remonitor's: mqtt.js and cbor-x, and the key table as
// PROTOCOL.md gives it. If this breaks, PROTOCOL.md lies to our users.
import { Decoder, type Options } from 'cbor-x';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../edge-agent/main.ts';
import { cleanup, quietLog, runCleanups, startBroker, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

// As PROTOCOL.md says: timestamps are CBOR uint64, which cbor-x reads as BigInt unless told otherwise.
const decoder = new Decoder({ mapsAsObjects: true, int64AsNumber: true } as Options);

// Copied from PROTOCOL.md's key table, on purpose not imported.
const KEYS: Record<number, string> = {
  0: 'v',
  1: 'boot',
  2: 'seq',
  3: 'ts_ms',
  4: 'cpu_pct',
  5: 'cpu_core_pct',
  6: 'load_1',
  7: 'load_5',
  8: 'load_15',
  9: 'mem_total_bytes',
  10: 'mem_used_bytes',
  11: 'mem_available_bytes',
  12: 'mem_pct',
  13: 'swap_total_bytes',
  14: 'swap_used_bytes',
  15: 'swap_pct',
  16: 'filesystems',
  17: 'disk_read_bps',
  18: 'disk_write_bps',
  19: 'net',
  20: 'temp_c',
  21: 'uptime_s',
  22: 'procs_total',
  23: 'top_cpu',
  24: 'top_mem',
};

describe('an outside MQTT client', () => {
  it('subscribes to remonitor/+/metrics and decodes a sample with a generic CBOR decoder', async () => {
    const { url } = await startBroker();
    const client = await connectAsync(url, { protocolVersion: 4 });
    cleanup(() => client.endAsync());
    const samples: { node: string; sample: Record<string, unknown> }[] = [];
    const statuses: string[] = [];
    client.on('message', (topic, payload) => {
      const [, node, channel] = topic.split('/');
      if (channel === 'status') statuses.push(`${node}=${payload.toString()}`);
      if (channel !== 'metrics') return;
      const raw = decoder.decode(payload) as Record<string, unknown>; // integer keys arrive as "0", "1", …
      const sample = Object.fromEntries(Object.entries(raw).map(([k, v]) => [KEYS[Number(k)] ?? k, v]));
      samples.push({ node: node!, sample });
    });
    await client.subscribeAsync(['remonitor/+/metrics', 'remonitor/+/status'], { qos: 1 });

    const agent = createAgent({ brokerUrl: url, node: 'outside-view', intervalMs: 300, processIntervalMs: 300 }, quietLog);
    await agent.start();
    cleanup(() => agent.stop());
    await waitFor('two samples, one with the process list', () => samples.length >= 2 && samples.some((s) => s.sample.top_mem));
    const { node, sample } = samples.find((s) => s.sample.seq === 1)!;
    expect(node).toBe('outside-view');
    expect(sample.v).toBe(1);
    expect(sample.seq).toBe(1);
    expect(typeof sample.boot).toBe('string');
    expect(Math.abs((sample.ts_ms as number) - Date.now())).toBeLessThan(10_000);
    expect(sample.cpu_pct as number).toBeGreaterThanOrEqual(0);
    expect(sample.mem_pct as number).toBeGreaterThan(0);
    const fs = sample.filesystems as [string, number, number, number][];
    expect(typeof fs[0]![0]).toBe('string');
    const top = samples.find((s) => s.sample.top_mem)!.sample.top_mem as [number, string, number, number, number][];
    expect(top.length).toBeGreaterThan(0);
    expect(typeof top[0]![1]).toBe('string');
    expect(statuses).toContain('outside-view=online');
  });
});
