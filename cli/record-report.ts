// The HTML report of `remonitor record`: one self-contained file (inline CSS and an SVG chart
// drawn here, no script, no network), so that a CI artifact opens anywhere.
import type { RecordReport } from './record.ts';

const MiB = 1024 * 1024;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** RSS (and anonymous RSS when known) over time, with the fitted slope drawn dashed. */
export function memorySvg(report: Pick<RecordReport, 'samples' | 'analysis'>, width = 760, height = 280): string {
  const { samples, analysis } = report;
  const pad = { l: 64, r: 16, t: 16, b: 32 };
  if (samples.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="10" y="30">no samples</text></svg>`;
  const t0 = samples[0]!.ts_ms;
  const t1 = Math.max(t0 + 1, samples[samples.length - 1]!.ts_ms);
  const maxY = Math.max(...samples.map((s) => s.rss_bytes)) * 1.1 || 1;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (b: number) => height - pad.b - (b / maxY) * (height - pad.t - pad.b);
  const line = (get: (s: RecordReport['samples'][number]) => number | null) =>
    samples
      .filter((s) => get(s) !== null)
      .map((s, i) => `${i ? 'L' : 'M'}${x(s.ts_ms).toFixed(1)},${y(get(s)!).toFixed(1)}`)
      .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = maxY * f;
    return `<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${(v / MiB).toFixed(0)} MiB</text>`;
  });
  const fit = analysis.fit
    ? `<path d="M${x(analysis.fit.from_ms)},${y(analysis.fit.intercept_bytes)}L${x(analysis.fit.to_ms)},${y(analysis.fit.intercept_bytes + analysis.fit.slope_bytes_per_ms * (analysis.fit.to_ms - analysis.fit.from_ms))}" stroke="#dc2626" stroke-width="2" stroke-dasharray="6 4" fill="none"><title>fitted slope ${analysis.slope_mb_per_h} MB/h</title></path>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="memory over time" font-family="system-ui,sans-serif" font-size="11" fill="#374151">
${ticks.join('\n')}
<text x="${pad.l}" y="${height - 8}">0 s</text><text x="${width - pad.r}" y="${height - 8}" text-anchor="end">${((t1 - t0) / 1000).toFixed(1)} s</text>
<path d="${line((s) => s.rss_anon_bytes)}" stroke="#a78bfa" stroke-width="1.5" fill="none"><title>anonymous RSS</title></path>
<path d="${line((s) => s.rss_bytes)}" stroke="#7c3aed" stroke-width="2" fill="none"><title>RSS</title></path>
${fit}
</svg>`;
}

export function renderReportHtml(report: RecordReport): string {
  const a = report.analysis;
  const rows: [string, string][] = [
    ['Command', report.command.join(' ')],
    ['Verdict', a.headline],
    ['Why', a.reason],
    ['Slope', a.slope_mb_per_h === null ? '—' : `${a.slope_mb_per_h} MB/h (r² ${a.r2})`],
    ['Growth', a.growth_bytes === null ? '—' : `${(a.growth_bytes / MiB).toFixed(1)} MiB (${a.growth_pct} %)`],
    ['Peak RSS', `${(report.peak_rss_bytes / MiB).toFixed(1)} MiB`],
    ['Duration', `${(report.duration_ms / 1000).toFixed(1)} s, ${report.samples.length} samples every ${report.interval_ms} ms`],
    ['Exit', report.signal ? `signal ${report.signal}` : `code ${report.exit_code}`],
    ['Result', report.breach ? `FAILED: ${report.breach.message} (exit ${report.record_exit_code})` : `passed (exit ${report.record_exit_code})`],
  ];
  const hub = report.hub;
  if (hub)
    rows.push([
      'Hub',
      hub.problem === null
        ? `session ${report.session} sent through ${hub.broker} (${hub.acked} samples)`
        : `${hub.acked} of ${hub.samples} samples sent: ${hub.problem}`,
    ]);
  const verdictClass = ({ 'leak suspected': 'leak', growing: 'growing', 'no leak': 'ok', 'not enough data': 'unknown' } as const)[a.verdict];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>remonitor record: ${esc(a.verdict)}: ${esc(report.command.join(' ').slice(0, 80))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#111827;margin:24px;max-width:820px}
h1{font-size:20px}.verdict{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600}
.leak{background:#fee2e2;color:#b91c1c}.growing{background:#fef3c7;color:#b45309}.ok{background:#dcfce7;color:#15803d}.unknown{background:#e5e7eb;color:#4b5563}
table{border-collapse:collapse}td,th{text-align:left;padding:3px 12px 3px 0;vertical-align:top}th{color:#6b7280;font-weight:500}
.legend span{margin-right:16px}
</style></head><body>
<h1>remonitor record <span class="verdict ${verdictClass}" id="verdict" data-verdict="${esc(a.verdict)}">${esc(a.headline)}</span></h1>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Memory (command and children)</h2>
<p class="legend"><span style="color:#7c3aed">━ RSS</span><span style="color:#a78bfa">━ anonymous RSS</span><span style="color:#dc2626">╌ fitted slope</span></p>
${memorySvg(report)}
<h2>Processes</h2>
<table><tr><th>PID</th><th>Name</th><th>Peak RSS</th></tr>${report.processes.map((p) => `<tr><td>${p.pid}</td><td>${esc(p.name)}</td><td>${(p.peak_rss_bytes / MiB).toFixed(1)} MiB</td></tr>`).join('')}</table>
</body></html>
`;
}
