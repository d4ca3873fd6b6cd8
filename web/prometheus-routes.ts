// GET /metrics: the fleet and the hub's health for a Prometheus scrape.
import { Hono } from 'hono';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import type { LiveFeed } from '../hub/live-feed.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type HubHealth } from '../hub/integrations/prometheus.ts';
import { LatestLabelled } from '../hub/integrations/latest-labelled.ts';
import { RateTotals } from '../hub/integrations/rate-totals.ts';

export interface PrometheusRouteOptions {
  store: AnyMetricsStore;
  /** Stored samples as they arrive: the rate metrics' counters add them up. */
  feed: LiveFeed;
  /** The hub's own figures; absent when only the web server runs (`remonitor web`). */
  health?: () => HubHealth;
}

export function prometheusRoutes({ store, feed, health }: PrometheusRouteOptions): Hono {
  const app = new Hono();
  // Lives as long as the app and its feed: both end with the process.
  const { totals } = RateTotals.follow(feed);
  const { latest } = LatestLabelled.follow(feed);
  app.get('/metrics', async (c) =>
    c.body(renderPrometheus(await store.listNodes(), health?.() ?? null, totals, latest), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
  );
  return app;
}
