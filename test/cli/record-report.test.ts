// The HTML report of `remonitor record` says the verdict as the dashboard does: its headline and
// colour come from hub/sessions/leak-verdict.ts, for a growing series as for a leak.
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../cli/record-report.ts';
import type { RecordReport } from '../../cli/record.ts';
import { analyzeLeak } from '../../hub/sessions/leak-verdict.ts';
import { syntheticSeries, type Shape } from '../../hub/sessions/synthetic-memory.ts';

function report(shape: Shape): RecordReport {
  const memory = syntheticSeries({ shape, samples: 60 });
  const samples = memory.map((p) => ({ ...p, rss_anon_bytes: null, rss_file_bytes: null, swap_bytes: null, cpu_pct: null, procs: 1 }));
  const t0 = samples[0]!.ts_ms;
  const t1 = samples.at(-1)!.ts_ms;
  return {
    command: ['node', 'app.js'],
    node: 'ci',
    session: 'record-00000000',
    started_ms: t0,
    ended_ms: t1,
    duration_ms: t1 - t0,
    interval_ms: 1000,
    exit_code: 0,
    signal: null,
    peak_rss_bytes: Math.max(...samples.map((s) => s.rss_bytes)),
    analysis: analyzeLeak(memory),
    breach: null,
    hub: null,
    record_exit_code: 0,
    processes: [{ pid: 1, name: 'node', peak_rss_bytes: 1 }],
    samples,
  };
}

describe('record report', () => {
  it.each([
    ['step-then-flat', 'growing', 'growing'],
    ['steady-leak', 'leak suspected', 'leak'],
    ['flat', 'no leak', 'ok'],
  ] as const)('%s: the headline, coloured as %s', (shape, verdict, cls) => {
    const r = report(shape);
    expect(r.analysis.verdict).toBe(verdict);
    const html = renderReportHtml(r);
    const badge = new RegExp(`<span class="verdict ${cls}" id="verdict" data-verdict="${verdict}">([^<]+)</span>`).exec(html);
    expect(badge?.[1]).toBe(r.analysis.headline);
    expect(html).toContain(`<tr><th>Verdict</th><td>${r.analysis.headline}</td></tr>`);
  });
});
