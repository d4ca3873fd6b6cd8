// Labelled series of a node: which it has (GET /api/nodes/:node/labelled, from its newest sample)
// and one of them over a range (…/labelled/:metric), in uPlot's aligned shape, one column per label set.
import { Hono, type Context } from 'hono';
import { labelledMetricSpec, nodeNameProblem, SERIES_NAME } from '../protocol/index.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import { labelledValues, labelsKey } from '../hub/storage/labelled-values.ts';
import type { ApiError, LabelledListResponse, LabelledSeriesResponse } from '../shared/api-types.ts';
import { parseParams } from './request-params.ts';
import { chartQuery } from './time-range.ts';

export function labelledRoutes(store: AnyMetricsStore, now: () => number = Date.now): Hono {
  const app = new Hono();
  const chartSchema = chartQuery(now);
  const fail = (c: Context, status: 400 | 404, error: string) => c.json<ApiError>({ error }, status);

  app.get('/api/nodes/:node/labelled', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return fail(c, 400, problem);
    const detail = await store.nodeDetail(node);
    if (!detail) return fail(c, 404, `no node named "${node}" has reported`);
    const byName = new Map<string, Set<string>>();
    for (const v of detail.sample ? labelledValues(detail.sample) : []) {
      let sets = byName.get(v.name);
      if (!sets) byName.set(v.name, (sets = new Set()));
      sets.add(labelsKey(v.labels));
    }
    const metrics = [...byName].map(([name, sets]) => {
      const spec = labelledMetricSpec(name);
      return {
        name,
        unit: spec?.unit ?? null,
        description: spec?.description ?? null,
        labels: [...sets].sort().map((l) => JSON.parse(l) as Record<string, string>),
      };
    });
    return c.json<LabelledListResponse>({ node, metrics });
  });

  app.get('/api/nodes/:node/labelled/:metric', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return fail(c, 400, problem);
    const metric = c.req.param('metric');
    if (!SERIES_NAME.test(metric)) return fail(c, 400, `metric ${JSON.stringify(metric.slice(0, 100))}: expected a series name (letters, digits, _)`);
    const query = parseParams(chartSchema, c.req.query());
    if ('error' in query) return fail(c, 400, query.error);
    const { from, to, points } = query.params;
    const series = await store.queryLabelled(node, metric, from, to, points);
    if (!series) return fail(c, 404, `no node named "${node}" has reported`);
    return c.json<LabelledSeriesResponse>({ node, metric, from_ms: from, to_ms: to, ...series });
  });

  return app;
}
