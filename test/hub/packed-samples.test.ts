// A packed batch holds each node, boot and process name once, and gives every row back as it was
// added: node, boot, numbers, detail, and each process of its top lists once.
import { describe, expect, it } from 'vitest';
import { PackedSamples, SAMPLE_COLUMNS } from '../../hub/storage/packed-samples.ts';
import { decodeDetail } from '../../hub/storage/sample-detail.ts';
import { toPoint } from '../../hub/storage/sample-point.ts';
import { realisticPi4Sample, withoutProcesses } from '../fixtures/realistic-sample.ts';

describe('PackedSamples', () => {
  it('keeps repeated strings once and reads each row back as it was added', () => {
    const full = realisticPi4Sample();
    const rows = [
      { node: 'pi-1', sample: { ...full, seq: 1 } },
      { node: 'pi-2', sample: { ...withoutProcesses(full), boot: 'other-boot', seq: 7, cpu_pct: 99.5 } },
      { node: 'pi-1', sample: { ...full, seq: 2, ts_ms: full.ts_ms + 1000 } },
    ];
    const packed = PackedSamples.pack(rows.map(({ node, sample }) => ({ node, sample, raw: new Uint8Array([sample.seq]) })));

    expect(packed.length).toBe(3);
    expect(packed.arrays.nodes).toEqual(['pi-1', 'pi-2']);
    expect(packed.arrays.boots).toEqual([full.boot, 'other-boot']);
    expect([0, 1, 2].map((r) => [packed.node(r), packed.boot(r), packed.seq(r)])).toEqual([
      ['pi-1', full.boot, 1],
      ['pi-2', 'other-boot', 7],
      ['pi-1', full.boot, 2],
    ]);
    expect(packed.column(1, SAMPLE_COLUMNS.indexOf('cpu_pct'))).toBe(99.5);
    expect(packed.column(0, SAMPLE_COLUMNS.indexOf('disk_pct'))).toBe(toPoint(full).disk_pct);
    expect(decodeDetail(packed.detail(2)).top_cpu).toEqual(full.top_cpu);

    // Each process of a sample once, though it may be in both top lists; names stored once per batch.
    const distinct = new Map([...full.top_cpu!, ...full.top_mem!].map((p) => [p.pid, p.name]));
    const processes = [...packed.processes()];
    expect(processes.filter((p) => p.row === 0).map((p) => [p.pid, p.name])).toEqual([...distinct]);
    expect(processes.filter((p) => p.row === 1)).toEqual([]);
    expect(processes.filter((p) => p.row === 2)).toHaveLength(distinct.size);
    expect(packed.arrays.procNames).toEqual([...new Set(distinct.values())]);
    // The newest payload of each node becomes its latest record.
    expect([...packed.latestRecords()].map((r) => [r.row, [...r.raw]])).toEqual([
      [2, [2]],
      [1, [7]],
    ]);
  });
});
