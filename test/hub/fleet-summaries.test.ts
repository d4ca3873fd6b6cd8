// The fleet page's list from stored rows: the same as the full summaries cut to the fleet's fields
// (containers, clock, tags, absent records included), the decoded parts kept while a node's bytes
// stay the same and read again when its sample, birth record or hub tags change, with the list
// pausing between slices.
import { describe, expect, it } from 'vitest';
import { encodeInfo, encodeSample, type LabelledValue, type NodeInfo } from '../../protocol/index.ts';
import { FleetSummaries } from '../../hub/storage/fleet-summaries.ts';
import { fleetSummaryOf, summarizeNode, type NodeRecord } from '../../hub/storage/node-record.ts';
import { sampleAt } from '../helpers/fleet-publisher.ts';

const birth = (tags: string[]): NodeInfo => ({
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
  ip_addresses: ['192.168.1.20'],
  tags,
});
const container = (name: string, container: string, value: number): LabelledValue => ({ name, labels: { container }, value });

const row = (name: string, cpu: number, extra: Partial<NodeRecord> = {}, series?: LabelledValue[]): NodeRecord => ({
  name,
  status: 'online',
  last_seen_ms: 1000,
  clock_skew_ms: 250,
  info: Buffer.from(encodeInfo(birth(['ci']))),
  latest: Buffer.from(encodeSample(sampleAt(1, 1000, { cpu_pct: cpu, series }))),
  hub_tags: '["site-b"]',
  ...extra,
});
const noPause = () => Promise.resolve();
/** What GET /api/nodes?fields=fleet gave from the full summaries: the reference. */
const cutOfFull = (rows: NodeRecord[]) => rows.map((r) => fleetSummaryOf(summarizeNode(r)));

describe('FleetSummaries', () => {
  it('answers what the full summaries cut to the fleet fields do', async () => {
    const rows = [
      row('a', 10, {}, [
        container('container_cpu_pct', 'web', 5),
        container('container_running', 'web', 1),
        { name: 'clock_synchronized', labels: {}, value: 1 },
      ]),
      row('b', 20, { status: 'weird', clock_skew_ms: null, hub_tags: null }),
      row('c', 30, { latest: null }),
      row('d', 40, { info: null, last_seen_ms: null }),
    ];
    const listed = await new FleetSummaries().list(rows, noPause);
    expect(listed).toEqual(cutOfFull(rows));
    expect(listed[0]).toMatchObject({ containers: { running: 1, top: [{ name: 'web', cpu_pct: 5 }] }, clock_synchronized: true, tags: ['ci', 'site-b'] });
    expect(listed[0]!.latest).toMatchObject({ cpu_pct: 10, disk_pct: expect.any(Number), net_rx_bps: expect.any(Number) });
  });

  it('keeps the decoded parts while the bytes are the same, and reads them again when the sample, birth record or hub tags change', async () => {
    const fleet = new FleetSummaries();
    const first = await fleet.list([row('a', 10), row('b', 20)], noPause);
    // The same bytes in new buffers, as a new query returns them: nothing decoded again.
    const again = await fleet.list([row('a', 10), row('b', 20)], noPause);
    expect(again[0]!.latest).toBe(first[0]!.latest);
    expect(again[1]!.info).toBe(first[1]!.info);

    const changedRows = [
      row('a', 11, { hub_tags: '["site-c"]' }),
      row('b', 20, { info: Buffer.from(encodeInfo({ ...birth(['lab']), hostname: 'other.lan' })) }),
    ];
    const changed = await fleet.list(changedRows, noPause);
    expect(changed).toEqual(cutOfFull(changedRows));
    expect(changed[0]).toMatchObject({ latest: { cpu_pct: 11 }, tags: ['ci', 'site-c'] });
    expect(changed[1]).toMatchObject({ info: { hostname: 'other.lan' }, tags: ['lab', 'site-b'] });
    expect(changed[1]!.latest).toBe(first[1]!.latest);

    const emptied = [row('b', 20, { latest: null, info: null })];
    expect(await fleet.list(emptied, noPause)).toEqual(cutOfFull(emptied));
  });

  it('awaits the pause between slices of a long list, and lists every node in order', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => row(`n${String(i).padStart(4, '0')}`, i % 100));
    // A clock that moves 4 ms at each look: a slice is found too long at every third look or so.
    let nowMs = 0;
    let pauses = 0;
    const listed = await new FleetSummaries(() => (nowMs += 4)).list(rows, async () => {
      pauses++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(listed.map((n) => n.name)).toEqual(rows.map((r) => r.name));
    expect(listed).toEqual(cutOfFull(rows));
    expect(pauses).toBeGreaterThanOrEqual(4);
  });

  it('decodes a node once when two lists run at once, each answering its own rows', async () => {
    const rows = Array.from({ length: 600 }, (_, i) => row(`n${String(i).padStart(4, '0')}`, i % 100));
    let nowMs = 0;
    const fleet = new FleetSummaries(() => (nowMs += 4));
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    // The second list starts while the first is paused part way, with one node gone and one changed.
    const first = fleet.list(rows, turn);
    await turn();
    const secondRows = [...rows.slice(1, 300), row('n0300', 55), ...rows.slice(301)];
    const [a, b] = await Promise.all([first, fleet.list(secondRows, turn)]);
    expect(a).toEqual(cutOfFull(rows));
    expect(b).toEqual(cutOfFull(secondRows));
    // Whichever list came to a node first decoded it; the other took the same parts.
    for (let i = 1; i < 600; i++) if (i !== 300) expect(b[i - 1]!.latest).toBe(a[i]!.latest);
    // The next list decodes nothing again.
    const again = await fleet.list(secondRows, turn);
    for (let i = 0; i < again.length; i++) expect(again[i]!.latest).toBe(b[i]!.latest);
  });
});
