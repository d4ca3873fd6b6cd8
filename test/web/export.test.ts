// GET /api/nodes/:node/export against a real hub (SQLite in a temp dir, real HTTP): every raw
// sample in the range, in order, across several pages, as CSV and as JSON.
import { encodeSample } from '../../protocol/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleAt } from '../helpers/fleet-publisher.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { runCleanups, startBroker, startHub } from '../helpers/parts.ts';

afterEach(runCleanups);

const N = 4500; // more than two pages of 2000

async function hubWithSamples() {
  const { url } = await startBroker();
  const { hub, api } = await startHub(url);
  const t0 = Date.now() - 2 * 3600_000;
  const batch = Array.from({ length: N }, (_, i) => {
    const sample = sampleAt(i + 1, t0 + i * 1000, { cpu_pct: (i % 1000) / 10 });
    if (i % 7 === 0) delete sample.temp_c; // unknown values stay unknown in the export
    return { node: 'exp', sample, raw: encodeSample(sample) };
  });
  hub.store.insertBatch(batch);
  return { api, t0, batch };
}

describe('export', () => {
  it('streams every sample of a range as CSV, in order, with the chosen metrics', async () => {
    const { api, t0 } = await hubWithSamples();
    const res = await fetch(`${api}/api/nodes/exp/export?format=csv&metrics=cpu_pct,temp_c&from=${t0}&to=${t0 + (N - 1) * 1000}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="exp-.*\.csv"$/);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[0]).toBe('time,ts_ms,seq,cpu_pct,temp_c');
    expect(lines.length).toBe(N + 1);
    const rows = lines.slice(1).map((l) => l.split(','));
    rows.forEach((r, i) => {
      expect(Number(r[1])).toBe(t0 + i * 1000);
      expect(r[0]).toBe(new Date(t0 + i * 1000).toISOString());
      expect(Number(r[2])).toBe(i + 1);
      expect(Number(r[3])).toBeCloseTo((i % 1000) / 10, 4);
      expect(r[4]).toBe(i % 7 === 0 ? '' : String(realisticPi4Sample().temp_c));
    });
  });

  it('exports JSON that parses, limited to from/to', async () => {
    const { api, t0 } = await hubWithSamples();
    const from = t0 + 100_000;
    const to = t0 + 2_599_000;
    const res = await fetch(`${api}/api/nodes/exp/export?format=json&from=${from}&to=${to}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const rows = (await res.json()) as Record<string, number | string | null>[];
    expect(rows.length).toBe(2500);
    expect(rows[0]).toMatchObject({ ts_ms: from, seq: 101, mem_pct: 43.6 });
    expect(rows.at(-1)!.ts_ms).toBe(to);
    expect(Object.keys(rows[0]!)).toContain('uptime_s');
  });

  it('answers an empty range with a header or an empty array', async () => {
    const { api } = await hubWithSamples();
    const csv = await fetch(`${api}/api/nodes/exp/export?format=csv&metrics=cpu_pct&from=1000000000000&to=1000000001000`);
    expect(await csv.text()).toBe('time,ts_ms,seq,cpu_pct\n');
    const json = await fetch(`${api}/api/nodes/exp/export?format=json&from=1000000000000&to=1000000001000`);
    expect(await json.json()).toEqual([]);
  });

  it('refuses bad requests saying what was wrong', async () => {
    const { api } = await hubWithSamples();
    const cases: [string, number, RegExp][] = [
      ['exp/export?format=xml', 400, /format="xml": expected csv or json/],
      ['exp/export?metrics=cpu_pct,bogus', 400, /unknown metric "bogus"/],
      ['exp/export?from=yesterday', 400, /from="yesterday"/],
      ['exp/export?format=xml&to=soon', 400, /^format="xml": expected csv or json; to="soon": expected epoch ms/],
      ['exp/export?from=2000&to=1000', 400, /^from \(2000\) must not be after to \(1000\)$/],
      ['nobody/export', 404, /no node named "nobody"/],
    ];
    for (const [path, status, error] of cases) {
      const res = await fetch(`${api}/api/nodes/${path}`);
      expect(res.status, path).toBe(status);
      expect(((await res.json()) as { error: string }).error, path).toMatch(error);
    }
  });
});
