import { describe, expect, it } from 'vitest';
import { decodeDetail, encodeDetail } from '../../hub/storage/sample-detail.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';

describe('stored sample detail', () => {
  it('round-trips cores, filesystems, interfaces and both process lists', () => {
    const s = realisticPi4Sample();
    const { cpu_core_pct, filesystems, net, top_cpu, top_mem } = s;
    expect(decodeDetail(encodeDetail(s))).toEqual({ cpu_core_pct, filesystems, net, top_cpu, top_mem });
  });

  it('leaves out what the sample did not carry', () => {
    expect(decodeDetail(encodeDetail({ cpu_core_pct: [1.5, 2] }))).toEqual({ cpu_core_pct: [1.5, 2] });
    expect(decodeDetail(encodeDetail({}))).toEqual({});
  });
});
