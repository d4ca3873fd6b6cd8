// GET /metrics: the fleet and the hub's health for a Prometheus scrape.
import { Hono } from 'hono';
import type { AnyMetricsStore } from '../hub/async-store.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type HubHealth } from '../hub/prometheus.ts';

export interface PrometheusRouteOptions {
  store: AnyMetricsStore;
  /** The hub's own figures; absent when only the web server runs (`remonitor web`). */
  health?: () => HubHealth;
}

export function prometheusRoutes({ store, health }: PrometheusRouteOptions): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) =>
    c.body(renderPrometheus(await store.listNodes(), health?.() ?? null), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
  );
  return app;
}
