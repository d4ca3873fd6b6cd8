// GET /api/nodes/:node/export?format=csv|json&metrics=a,b&from=…&to=…: raw samples, streamed a
// page at a time (the response starts at once and memory stays flat however long the range).
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { nodeNameProblem } from '../protocol/index.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import type { SamplePage } from '../hub/storage/store.ts';
import { SERIES_METRICS, type ApiError } from '../shared/api-types.ts';
import { metricsParam } from './metrics-param.ts';
import { choiceParam, parseParams } from './request-params.ts';
import { atNow, fromBeforeTo, timeParam } from './time-range.ts';

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The export's query: the format, the metrics (default all), and the range (default the last day). */
const exportQuery = (now: () => number) =>
  v.pipe(
    v.object({
      format: choiceParam(EXPORT_FORMATS, 'csv'),
      metrics: metricsParam(SERIES_METRICS),
      from: timeParam('-24h'),
      to: timeParam('now'),
    }),
    atNow(now),
    fromBeforeTo(true),
  );

const PAGE_ROWS = 2000;

export interface ExportRouteOptions {
  store: AnyMetricsStore;
  now?: () => number;
}

export function exportRoutes({ store, now = Date.now }: ExportRouteOptions): Hono {
  const app = new Hono();
  const exportSchema = exportQuery(now);
  const fail = (c: Context, status: 400 | 404 | 501, error: string) => c.json<ApiError>({ error }, status);

  app.get('/api/nodes/:node/export', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return fail(c, 400, problem);
    const parsed = parseParams(exportSchema, c.req.query());
    if ('error' in parsed) return fail(c, 400, parsed.error);
    const { format, metrics, from: fromMs, to: toMs } = parsed.params;
    if (!store.samplePage) return fail(c, 501, 'this store cannot export raw samples');
    const query = { node, metrics, fromMs, toMs, after: null, limit: PAGE_ROWS };
    const first = await store.samplePage(query);
    if (!first) return fail(c, 404, `no node named "${node}" has reported`);

    const encoder = new TextEncoder();
    const toCsv = (r: { ts_ms: number; seq: number; values: (number | null)[] }) =>
      `${new Date(r.ts_ms).toISOString()},${r.ts_ms},${r.seq},${r.values.map((v) => (v === null ? '' : String(v))).join(',')}\n`;
    const toJson = (r: { ts_ms: number; seq: number; values: (number | null)[] }) => {
      const o: Record<string, number | string | null> = { time: new Date(r.ts_ms).toISOString(), ts_ms: r.ts_ms, seq: r.seq };
      metrics.forEach((m, i) => (o[m] = r.values[i] ?? null));
      return JSON.stringify(o);
    };
    let page = first;
    let rowsSent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(format === 'csv' ? `time,ts_ms,seq,${metrics.join(',')}\n` : '['));
      },
      // One page of rows per pull: the stream asks for more only as fast as the client reads.
      async pull(controller) {
        // A page may come back empty when its search found nothing yet: ask again, but give the event
        // loop its turn first, so a long run of empty pages never runs as one long task.
        while (page.rows.length === 0 && page.next) page = await nextPage(page.next);
        const rows = page.rows;
        if (rows.length > 0) {
          const text = format === 'csv' ? rows.map(toCsv).join('') : rows.map((r, i) => `${rowsSent + i === 0 ? '\n' : ',\n'}${toJson(r)}`).join('');
          rowsSent += rows.length;
          controller.enqueue(encoder.encode(text));
        }
        if (page.next) {
          page = await nextPage(page.next);
          return;
        }
        if (format === 'json') controller.enqueue(encoder.encode(rowsSent > 0 ? '\n]\n' : ']\n'));
        controller.close();
      },
    });
    async function nextPage(after: SamplePage['next']): Promise<SamplePage> {
      await new Promise((resolve) => setImmediate(resolve));
      // The node was there for the first page; a store that lost it since (a purge) ends the export.
      return (await store.samplePage!({ ...query, after })) ?? { rows: [], next: null };
    }
    const filename = `${node}-${new Date(fromMs).toISOString().replace(/[:.]/g, '-')}.${format}`;
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="${filename}"`,
      },
    });
  });
  return app;
}
