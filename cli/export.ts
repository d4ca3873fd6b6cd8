// `remonitor export NODE`: raw samples of a range from a hub's export API into a file (or stdout),
// with progress on stderr: rows, bytes and how far through the time range the stream has got.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { nodeNameProblem } from '../protocol/index.ts';
import * as v from 'valibot';
import { describeOptions, resolveOptions, textOption, valueOption } from '../shared/options.ts';
import { oneOf } from '../shared/option-schemas.ts';
import { parseTimeParam } from '../web/time-range.ts';

/** Checked here, sent to the hub as typed: the hub reads "-24h" against its own clock. */
const timeParam = v.pipe(
  v.string(),
  v.check((text) => parseTimeParam(text, Date.now()) !== null, 'must be epoch ms, "now" or relative like -24h'),
);

export const exportSpec = {
  hub: valueOption({
    flag: 'hub',
    help: 'hub URL',
    default: 'http://127.0.0.1:8080',
    schema: v.pipe(
      v.string(),
      v.regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'),
      v.transform((url) => url.replace(/\/$/, '')),
    ),
  }),
  format: valueOption({ flag: 'format', help: 'csv or json', default: 'csv', schema: oneOf(['csv', 'json'], 'must be csv or json') }),
  metrics: textOption('metrics', 'comma-separated metrics (default: all)'),
  from: valueOption({ flag: 'from', help: 'start: epoch ms, now, or relative like -24h', default: '-24h', schema: timeParam }),
  to: valueOption({ flag: 'to', help: 'end: epoch ms, now, or relative', default: 'now', schema: timeParam }),
  out: textOption('out', 'file to write (default: stdout)'),
  token: textOption('token', 'API token of a viewer, needed unless the hub runs --insecure (remonitor token add NAME --role viewer)'),
};

export const EXPORT_USAGE = `remonitor export NODE [options]: raw samples of a range as CSV or JSON, with progress on stderr\n${describeOptions(exportSpec)}`;

/** "37% · 12,400 rows · 1.2 MB": how far the rows' times have got through [fromMs, toMs]. */
export function progressLine(rows: number, bytes: number, lastTsMs: number | null, fromMs: number, toMs: number): string {
  const pct = lastTsMs === null || toMs <= fromMs ? 0 : Math.min(100, Math.max(0, ((lastTsMs - fromMs) / (toMs - fromMs)) * 100));
  const size = bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
  return `${pct.toFixed(0).padStart(3)}% · ${rows.toLocaleString('en')} rows · ${size}`;
}

export async function runExport(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(exportSpec, argv);
  const node = positionals[0];
  if (!node || positionals.length > 1) throw new Error(`expected one node name, got ${positionals.length ? positionals.join(' ') : 'none'}\n${EXPORT_USAGE}`);
  const problem = nodeNameProblem(node);
  if (problem) throw new Error(problem);
  // Absolute times, so that the hub and the progress agree on the range.
  const now = Date.now();
  const fromMs = parseTimeParam(o.from, now)!;
  const toMs = parseTimeParam(o.to, now)!;
  const params = new URLSearchParams({ format: o.format, from: String(fromMs), to: String(toMs), ...(o.metrics ? { metrics: o.metrics } : {}) });
  const url = `${o.hub}/api/nodes/${encodeURIComponent(node)}/export?${params}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: o.token ? { authorization: `Bearer ${o.token}` } : {} });
  } catch (err) {
    throw new Error(`cannot reach the hub at ${o.hub}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) {
    const body = await res.text();
    let message = body;
    try {
      message = (JSON.parse(body) as { error: string }).error;
    } catch {
      // not JSON: keep the text
    }
    const hint =
      res.status === 401
        ? o.token
          ? '; the token is unknown or revoked (remonitor token list on the hub)'
          : '. This hub needs an API token: pass --token TOKEN or set REMONITOR_TOKEN; on the hub, `remonitor token add NAME --role viewer --data-dir DIR` makes one'
        : '';
    throw new Error(`the hub refused the export (${res.status}): ${message}${hint}`);
  }

  const out = o.out ? createWriteStream(o.out) : process.stdout;
  const tty = process.stderr.isTTY;
  let rows = 0;
  let bytes = 0;
  let lastTs: number | null = null;
  let lastReport = 0;
  let tail = '';
  const decoder = new TextDecoder();
  const report = (final = false) => {
    const line = progressLine(rows, bytes, final ? toMs : lastTs, fromMs, toMs);
    // A terminal gets one line rewritten in place; a log gets a line a second at most.
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
  const reader = res.body.getReader();
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    bytes += chunk.byteLength;
    // Count rows and find the newest time without parsing the whole payload: both formats put
    // one sample per line, with ts_ms as the second CSV column or the "ts_ms" key.
    const text = tail + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      const ts = o.format === 'csv' ? Number(line.split(',')[1]) : Number(/"ts_ms":(\d+)/.exec(line)?.[1]);
      if (Number.isFinite(ts) && ts > 0) {
        rows++;
        lastTs = ts;
      }
    }
    if (!out.write(chunk)) await once(out, 'drain');
    const t = Date.now();
    if (t - lastReport >= (tty ? 200 : 1000)) {
      lastReport = t;
      report();
    }
  }
  report(true);
  if (o.out) {
    out.end();
    await once(out, 'finish');
  }
  process.stderr.write(`remonitor export: ${rows} samples of ${node} written to ${o.out ?? 'stdout'}\n`);
  return 0;
}
