// A node's summary from its stored row: the running containers of its newest sample, the summaries
// of a list reused while a node's stored bytes stay the same and decoded again when they change,
// and the fleet page's cut of a summary.
import { describe, expect, it } from 'vitest';
import { encodeInfo, encodeSample, type LabelledValue } from '../../protocol/index.ts';
import { containersOf, fleetSummaryOf, NodeSummaries, summarizeNode, type NodeRecord } from '../../hub/storage/node-record.ts';
import { sampleAt } from '../helpers/fleet-publisher.ts';

const v = (name: string, container: string, value: number): LabelledValue => ({ name, labels: { container, image: 'x' }, value });

describe('containersOf', () => {
  it.each([
    { what: 'no series', series: undefined, expected: undefined },
    { what: 'series but no container', series: [{ name: 'service_failed', labels: { unit: 'a' }, value: 1 }], expected: undefined },
    {
      what: 'running ones busiest first, an exited one left out',
      series: [
        v('container_cpu_pct', 'db', 12),
        v('container_running', 'db', 1),
        v('container_cpu_pct', 'web', 41),
        v('container_running', 'web', 1),
        v('container_running', 'old', 0),
      ],
      expected: {
        running: 2,
        top: [
          { name: 'web', cpu_pct: 41 },
          { name: 'db', cpu_pct: 12 },
        ],
      },
    },
    {
      what: 'named by id without the API (no container_running): counted, no CPU yet last',
      series: [v('container_mem_bytes', 'b2c1', 5e6), v('container_cpu_pct', 'a1f0', 3)],
      expected: {
        running: 2,
        top: [
          { name: 'a1f0', cpu_pct: 3 },
          { name: 'b2c1', cpu_pct: null },
        ],
      },
    },
    { what: 'only exited ones', series: [v('container_running', 'old', 0)], expected: undefined },
  ])('$what', ({ series, expected }) => {
    expect(containersOf({ series })).toEqual(expected);
  });

  it('names at most 16, and counts them all', () => {
    const series = Array.from({ length: 30 }, (_, i) => v('container_cpu_pct', `c${String(i).padStart(2, '0')}`, i));
    const c = containersOf({ series })!;
    expect(c.running).toBe(30);
    expect(c.top.map((t) => t.cpu_pct)).toEqual(Array.from({ length: 16 }, (_, i) => 29 - i));
  });
});

const info = encodeInfo({
  v: 1,
  agent_version: '1.2.3',
  hostname: 'pi.lan',
  os: 'Linux',
  kernel: '6.6',
  arch: 'arm64',
  cpu_model: 'A72',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: 1,
  interval_ms: 1000,
  tags: ['ci'],
});
const row = (name: string, cpu: number, series?: LabelledValue[]): NodeRecord => ({
  name,
  status: 'online',
  last_seen_ms: 1000,
  info: Buffer.from(info),
  latest: Buffer.from(encodeSample(sampleAt(1, 1000, { cpu_pct: cpu, series }))),
  hub_tags: '["site-b"]',
});

describe('NodeSummaries', () => {
  it('answers what summarizeNode does, keeps the decoded parts while the bytes are the same, and decodes them again when they change', () => {
    const summaries = new NodeSummaries();
    const rows = [row('a', 10, [v('container_cpu_pct', 'web', 5)]), row('b', 20)];
    const first = summaries.list(rows);
    expect(first).toEqual(rows.map(summarizeNode));
    expect(first[0]!.containers).toEqual({ running: 1, top: [{ name: 'web', cpu_pct: 5 }] });

    // The same bytes in new buffers, as a new query returns them: nothing decoded again.
    const again = summaries.list([row('a', 10, [v('container_cpu_pct', 'web', 5)]), row('b', 20)]);
    expect(again[0]!.latest).toBe(first[0]!.latest);
    expect(again[1]!.info).toBe(first[1]!.info);

    const changed = summaries.list([row('a', 11), row('b', 20)]);
    expect(changed[0]!.latest?.cpu_pct).toBe(11);
    expect(changed[0]!.containers).toBeUndefined();
    expect(changed[1]!.latest).toBe(first[1]!.latest);
    expect(summaries.list([{ ...row('b', 20), latest: null, info: null }])[0]).toMatchObject({ latest: null, info: null, tags: ['site-b'] });
  });
});

describe('fleetSummaryOf', () => {
  it('keeps what the fleet page shows and drops the rest', () => {
    const s = summarizeNode(row('a', 10));
    const lean = fleetSummaryOf({ ...s, stale: false });
    expect(Object.keys(lean.latest!).sort()).toEqual(['cpu_pct', 'disk_pct', 'load_1', 'mem_pct', 'net_rx_bps', 'net_tx_bps', 'temp_c', 'ts_ms']);
    expect(lean.info).toEqual({ agent_version: '1.2.3', hostname: 'pi.lan', os: 'Linux', arch: 'arm64', interval_ms: 1000 });
    expect(lean).toMatchObject({ name: 'a', status: 'online', tags: ['ci', 'site-b'], stale: false });
    expect(JSON.stringify(lean).length).toBeLessThan(JSON.stringify(s).length * 0.6);
  });
});
