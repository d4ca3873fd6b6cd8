// The fleet page's metric columns come from the registry (protocol/metrics.ts, FLEET_COLUMNS and
// each metric's `fleet`): which metrics fill each column, the text a cell shows and the value it sorts by.
import { describe, expect, it } from 'vitest';
import { FLEET_POINT_METRICS } from '../../shared/api-types.ts';
import { columnMetrics, columnText, columnValue, METRIC_COLUMNS } from '../../web/client/metric-columns.ts';

const point = { ts_ms: 1, cpu_pct: 12.5, mem_pct: 99.97, disk_pct: 0, temp_c: 51.24, load_1: 0.7, net_rx_bps: 1500 };

describe('fleet metric columns', () => {
  it('are the registry fleet columns, in order, each with its metrics', () => {
    expect(METRIC_COLUMNS.map((c) => [c.column, c.label, columnMetrics(c.column)])).toEqual([
      ['cpu', 'CPU', ['cpu_pct']],
      ['mem', 'Memory', ['mem_pct']],
      ['disk', 'Disk', ['disk_pct']],
      ['temp', 'Temp', ['temp_c']],
      ['load', 'Load', ['load_1']],
      ['net', 'Network', ['net_rx_bps', 'net_tx_bps']],
    ]);
    expect(METRIC_COLUMNS.find((c) => c.column === 'load')?.title).toBe('load average over 1 minute');
    expect(METRIC_COLUMNS.find((c) => c.column === 'cpu')?.title).toBeNull();
    // What GET /api/nodes?fields=fleet carries of a sample: the columns' metrics, in the columns' order.
    expect(FLEET_POINT_METRICS).toEqual(METRIC_COLUMNS.flatMap((c) => columnMetrics(c.column)));
  });

  it('write each value in its unit, several after their marks, and — for none', () => {
    expect(METRIC_COLUMNS.map((c) => columnText(point, c.column))).toEqual(['12.5 %', '100 %', '0 %', '51.2 °C', '0.70', '↓1.50 kB/s ↑—']);
    expect(columnText({ ts_ms: 1, net_tx_bps: 200 }, 'net')).toBe('↓— ↑200 B/s');
    for (const c of METRIC_COLUMNS) {
      expect(columnText({ ts_ms: 1 }, c.column)).toBe('—');
      expect(columnText(null, c.column)).toBe('—');
    }
  });

  it('sort by the value, or by the sum of several; unknown when none is known', () => {
    expect(columnValue(point, 'temp')).toBe(51.24);
    expect(columnValue(point, 'disk')).toBe(0);
    expect(columnValue(point, 'net')).toBe(1500);
    expect(columnValue({ ...point, net_tx_bps: 250 }, 'net')).toBe(1750);
    expect(columnValue({ ts_ms: 1 }, 'net')).toBeUndefined();
    expect(columnValue(null, 'cpu')).toBeUndefined();
  });
});
