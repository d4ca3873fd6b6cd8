// The `metrics=` query value of the series and export routes: a comma-separated list of series
// metrics, each at most once (a list of 1,000 repeats of one name asks for it once, not 1,000 times).
import { SERIES_METRICS, type SeriesMetric } from '../shared/api-types.ts';

/** The metrics asked for in order, repeats dropped; or the problem to answer with 400. */
export function parseMetricsParam(raw: string | undefined, defaults: readonly SeriesMetric[]): { metrics: SeriesMetric[] } | { error: string } {
  const asked = raw ? [...new Set(raw.split(',').map((m) => m.trim()))] : [...defaults];
  const unknown = asked.filter((m) => !(SERIES_METRICS as readonly string[]).includes(m));
  if (unknown.length > 0 || asked.length === 0) {
    return { error: `metrics: unknown metric ${JSON.stringify((unknown[0] ?? '').slice(0, 100))}; known: ${SERIES_METRICS.join(', ')}` };
  }
  return { metrics: asked as SeriesMetric[] };
}
