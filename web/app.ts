// The Hono app: REST API, live stream and pages. Routes only; web/server.ts listens.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { nodeNameProblem } from '../protocol/index.ts';
import type { LiveFeed } from '../hub/live-feed.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import { DEFAULT_SERIES, type ApiError, type FleetNodesResponse, type StreamEvent } from '../shared/api-types.ts';
import { toFleetColumns, type FleetColumns } from '../shared/fleet-columns.ts';
import { clockSynchronizedOf, containersOf } from '../hub/storage/node-record.ts';
import { metricsParam } from './metrics-param.ts';
import { parseParams } from './request-params.ts';
import { atNow, chartEntries, fromBeforeTo } from './time-range.ts';
import { labelledRoutes } from './labelled-routes.ts';
import { deployRoutes, type DeployRouteOptions } from './deploy-routes.ts';
import { exportRoutes } from './export-routes.ts';
import { prometheusRoutes } from './prometheus-routes.ts';
import type { AlarmsApi } from '../hub/alarms/alarms-api.ts';
import { createAlarmRoutes } from './alarm-routes.ts';
import { channelRoutes } from './channel-routes.ts';
import type { HubHealth } from '../hub/integrations/prometheus.ts';
import type { HealthReport } from '../hub/hub-health.ts';
import type { SessionService } from '../hub/sessions/session-service.ts';
import { commandRoutes } from './command-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import type { WebAuth } from './auth/web-auth.ts';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { enrolRoutes } from './enrol-routes.ts';
import { tagRoutes } from './tag-routes.ts';
import type { NodeTags } from '../hub/nodes/node-tags.ts';
import { DEFAULT_STALE_AFTER_MS, nodeRoutes, withStale } from './node-routes.ts';
import type { NodeRemoval } from '../hub/nodes/node-removal.ts';
import { COORDINATED_PATHS, coordinatorProxy, type CoordinatorLocator } from './coordinator-proxy.ts';
import { StaticFiles } from './static-files.ts';

export interface AppOptions {
  store: AnyMetricsStore;
  feed: LiveFeed;
  /** Injected so tests control time. */
  now?: () => number;
  /** The hub's own figures for GET /metrics; absent when only the web server runs. */
  health?: () => HubHealth;
  /** What GET /healthz answers (503 unless ok); absent when only the web server runs: then always ok. */
  readiness?: () => HealthReport;
  /** What GET /install.sh fills in (the broker nodes should use). */
  deploy?: DeployRouteOptions;
  /** The alarm engine behind /api/alarms; absent when only the web server runs. */
  alarms?: AlarmsApi;
  /** Remote commands, sessions and per-process history (issue 3); absent when only the web server runs. */
  sessions?: SessionService;
  /** Logins, roles and CSRF (web/auth/); absent = open to anyone who can connect (loopback with --insecure only). */
  auth?: WebAuth;
  /** Node enrolment from the dashboard (POST /api/enrolments); only with logins and the embedded broker's credentials. */
  enrolment?: MqttCredentials;
  /** In a group of hubs: who serves alarms, sessions and commands (this process, or one to forward to). */
  coordinator?: CoordinatorLocator;
  /** Removing nodes (DELETE /api/nodes/:node); absent when only the web server runs. */
  nodeRemoval?: Pick<NodeRemoval, 'remove'>;
  /** GET /api/nodes marks a node stale when its newest sample is older than this, ms (default 24 h). */
  staleAfterMs?: number;
  /** The tags given to nodes on the hub (PUT /api/nodes/:node/tags, enrolment); absent when only the web server runs. */
  nodeTags?: Pick<NodeTags, 'set'>;
}

const HEARTBEAT_MS = 15_000;
/** Events waiting for one slow /api/stream client: a 1,000-node fleet sends about 1,000 a second. */
const MAX_QUEUED_EVENTS = 20_000;
/** Largest request body, bytes: the API takes small JSON documents only. */
const MAX_BODY_BYTES = 64 * 1024;

/** GET /api/nodes: `?fields=fleet` asks for what the fleet page shows of each node. */
const NODES_QUERY = v.object({ fields: v.optional(v.literal('fleet', 'the one choice is "fleet"')) });
/** GET /api/nodes/:node/series: which metrics (default the charts'), over which range, at which resolution. */
const seriesQuery = (now: () => number) => v.pipe(v.object({ metrics: metricsParam(DEFAULT_SERIES), ...chartEntries() }), atNow(now), fromBeforeTo());
// Both resolve from web/ (sources) and from dist/ (the built CLI), which sit side by side.
const PUBLIC_DIR = fileURLToPath(new URL('../web/public/', import.meta.url));
const BUILT_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));

export function createApp({
  store,
  feed,
  now = Date.now,
  health,
  readiness,
  deploy,
  alarms,
  sessions,
  auth,
  enrolment,
  coordinator,
  nodeRemoval,
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
  nodeTags,
}: AppOptions): Hono {
  const app = new Hono();
  const files = new StaticFiles();
  const seriesSchema = seriesQuery(now);
  const fail = (c: Context, status: 400 | 404, error: string) => c.json<ApiError>({ error }, status);
  // First, for every path: what each route needs, public included, is declared in web/route-roles.ts.
  if (auth) app.use('*', auth.middleware);
  app.use(
    '*',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json<ApiError>({ error: `the request body is larger than ${MAX_BODY_BYTES} bytes` }, 413) }),
  );
  if (auth) {
    app.route('/', auth.routes);
    app.get('/login', files.file(`${PUBLIC_DIR}login.html`));
  } else app.get('/api/me', (c) => c.json({ name: null, role: null, via: 'open' })); // pages then show no "signed in as"

  app.get('/healthz', (c) => {
    const report = readiness?.() ?? { ok: true };
    return c.json(report, report.ok ? 200 : 503);
  });

  // The fleet list is made once as the hub starts, in the background: the first page load after a
  // restart then finds every node's stored records decoded (FleetSummaries keeps them), instead of
  // waiting for all of them. A request that comes meanwhile lists its own rows beside it.
  setImmediate(() => {
    Promise.resolve()
      .then(() => store.listFleetNodes(yieldToLoop))
      .catch(() => undefined); // a store closed before it ran, or out of reach: the first request lists as before
  });

  app.get('/api/nodes', async (c) => {
    // ?fields=fleet: what the fleet page shows of each node, about half the bytes to send and parse;
    // &shape=columns: the same as one array per field (shared/fleet-columns.ts), less again.
    const query = parseParams(NODES_QUERY, c.req.query());
    if ('error' in query) return fail(c, 400, query.error);
    const { fields } = query.params;
    const shape = c.req.query('shape');
    if (shape !== undefined && (shape !== 'columns' || fields !== 'fleet'))
      return fail(c, 400, `shape: the one choice is "columns", with fields=fleet, not "${shape.slice(0, 40)}"${fields === 'fleet' ? '' : ' without it'}`);
    // Listing thousands of nodes holds the event loop for a while: the page's script and styles,
    // asked for at the same moment, are answered first, so the browser runs them meanwhile.
    await yieldToLoop();
    if (fields === undefined) return c.json(withStale(await store.listNodes(), now(), staleAfterMs));
    // Only the fields the page shows are decoded, in slices with other requests answered between.
    const fleet = withStale(await store.listFleetNodes(yieldToLoop), now(), staleAfterMs);
    if (shape === 'columns') return c.json<FleetColumns>(toFleetColumns(fleet.nodes, fleet.stale));
    return c.json<FleetNodesResponse>(fleet);
  });

  app.get('/api/nodes/:node', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return fail(c, 400, problem);
    const detail = await store.nodeDetail(node);
    return detail ? c.json(detail) : fail(c, 404, `no node named "${node}" has reported`);
  });

  app.get('/api/nodes/:node/series', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return fail(c, 400, problem);
    const query = parseParams(seriesSchema, c.req.query());
    if ('error' in query) return fail(c, 400, query.error);
    const { metrics, from: fromMs, to: toMs, points } = query.params;
    const series = await store.querySeries({ node, metrics, fromMs, toMs, maxPoints: points });
    return series ? c.json(series) : fail(c, 404, `no node named "${node}" has reported`);
  });

  app.get('/api/stream', (c) =>
    streamSSE(c, async (stream) => {
      const queue: StreamEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = feed.subscribe((event) => {
        // A client that stops reading is dropped rather than queued for without end (it reconnects).
        if (queue.length >= MAX_QUEUED_EVENTS) {
          unsubscribe();
          queue.length = 0;
          stream.abort();
          // A pending write never settles for a client that does not read: end its connection.
          (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing?.destroy();
          return;
        }
        if (event.type === 'sample') {
          const { sample: full, ...forBrowser } = event; // browsers get the flat point, not the whole sample
          const containers = full && containersOf(full);
          const synchronized = full ? clockSynchronizedOf(full) : undefined;
          const out: StreamEvent = containers ? { ...forBrowser, containers } : forBrowser;
          queue.push(synchronized === undefined ? out : { ...out, clock_synchronized: synchronized });
        } else queue.push(event);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      while (!stream.aborted) {
        while (queue.length > 0) {
          const event = queue.shift()!;
          await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, HEARTBEAT_MS);
        });
        clearTimeout(timer); // a pending heartbeat timer would hold a stopping process open
        wake = null;
        if (queue.length === 0 && !stream.aborted) await stream.write(': heartbeat\n\n');
      }
      unsubscribe();
    }),
  );

  if (coordinator) for (const path of COORDINATED_PATHS) app.use(path, coordinatorProxy(coordinator));
  app.route('/', exportRoutes({ store, now }));
  app.route('/', labelledRoutes(store, now));
  app.route('/', prometheusRoutes({ store, feed, health }));
  app.route('/', deployRoutes(deploy));
  if (alarms) app.route('/', createAlarmRoutes(alarms, now));
  if (alarms) app.route('/', channelRoutes());
  if (sessions) app.route('/', commandRoutes(sessions, store));
  if (sessions) app.route('/', sessionRoutes(sessions, store, now));
  // Never without logins: the route hands out credentials.
  if (enrolment && auth) app.route('/', enrolRoutes(enrolment, nodeTags));
  if (nodeTags) app.route('/', tagRoutes(nodeTags, store));
  if (nodeRemoval) app.route('/', nodeRoutes(nodeRemoval));
  app.all('/api/*', (c) => fail(c, 404, `no API route ${c.req.method} ${c.req.path}`));

  app.get('/', files.file(`${PUBLIC_DIR}fleet.html`));
  app.get('/nodes/:node', files.file(`${PUBLIC_DIR}node.html`));
  app.get('/sessions', files.file(`${PUBLIC_DIR}sessions.html`));
  app.get('/sessions/:id', files.file(`${PUBLIC_DIR}session.html`));
  app.get('/alarms', files.file(`${PUBLIC_DIR}alarms.html`));
  app.use('/assets/*', files.under('/assets', [BUILT_DIR, PUBLIC_DIR]));
  return app;
}
