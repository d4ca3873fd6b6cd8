// The `metrics=` query value of the series and export routes: a comma-separated list of series
// metrics, each at most once (a list of 1,000 repeats of one name asks for it once, not 1,000 times).
import * as v from 'valibot';
import { SERIES_METRICS, type SeriesMetric } from '../shared/api-types.ts';

const isSeriesMetric = (name: string): name is SeriesMetric => (SERIES_METRICS as readonly string[]).includes(name);

/** The metrics asked for in order, repeats dropped; `defaults` when the parameter is absent or empty. */
export const metricsParam = (defaults: readonly SeriesMetric[]) =>
  v.optional(
    v.pipe(
      v.string(),
      v.transform((text) => (text ? [...new Set(text.split(',').map((m) => m.trim()))] : [...defaults])),
      v.check(
        (names) => names.length > 0 && names.every(isSeriesMetric),
        (issue) =>
          `unknown metric ${JSON.stringify(((issue.input as string[]).find((m) => !isSeriesMetric(m)) ?? '').slice(0, 100))}; known: ${SERIES_METRICS.join(', ')}`,
      ),
      v.transform((names) => names as SeriesMetric[]),
    ),
    '',
  );
