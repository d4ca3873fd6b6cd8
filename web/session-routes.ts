// Sessions (POST/GET /api/sessions…, export as CSV and JSON) and the per-process history
// (GET /api/processes, GET /api/processes/:node/:name/history).
import { Hono } from 'hono';
import * as v from 'valibot';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS, parseTarget } from '../protocol/commands.ts';
import { formatDuration, parseDuration } from '../protocol/duration.ts';
import { nodeNameProblem } from '../protocol/topics.ts';
import type { SessionService } from '../hub/sessions/session-service.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import { outcomeResponse, REPLY_WAIT_MS } from './command-routes.ts';
import { DEMO_SESSION_ID, demoSession } from './demo-session.ts';
import type { ProcessesResponse, SessionDetail, SessionsResponse } from '../shared/session-types.ts';
import { choiceParam, parseBody, parseParams } from './request-params.ts';
import { plainObject, shown } from '../shared/field-problems.ts';
import { atNow, fromBeforeTo, timeParam } from './time-range.ts';

const MAX_WINDOW_MS = 7 * 86_400_000;
const WINDOW_PROBLEM = 'expected a duration such as 5m, 1h or 1d, at most 7d';

const BODY_PROBLEM = 'the body must be a JSON object like {"node": "pi-4", "target": "name:nginx", "interval": "1s"}';
const INTERVAL_PROBLEM = `must be a duration between ${formatDuration(MIN_INTERVAL_MS)} and ${formatDuration(MAX_INTERVAL_MS)}`;
/** A sample interval as a duration (`"500ms"`, `"2s"`) or a number of ms, within the agent's bounds. */
const sessionInterval = v.pipe(
  v.union([v.string(), v.number()], (issue) => `${shown(issue.input)} ${INTERVAL_PROBLEM}`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const ms = parseDuration(dataset.value);
    if (ms !== null && ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS) return ms;
    addIssue({ message: `${shown(dataset.value)} ${INTERVAL_PROBLEM}` });
    return NEVER;
  }),
);
/** POST /api/sessions: which node, which processes, how often (`interval`, or `interval_ms`; 1s when neither). */
const SESSION_BODY = v.pipe(
  plainObject(() => BODY_PROBLEM),
  v.object(
    {
      node: v.pipe(
        v.string((issue) => nodeNameProblem(issue.input)!),
        v.check(
          (name) => nodeNameProblem(name) === null,
          (issue) => nodeNameProblem(issue.input)!,
        ),
      ),
      target: v.pipe(
        v.union([v.string(), v.number()], (issue) => `must be text like "name:nginx", "pid:1234" or "cmdline:app.js", got ${shown(issue.input)}`),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          const target = parseTarget(String(dataset.value));
          if (typeof target !== 'string') return target;
          addIssue({ message: target });
          return NEVER;
        }),
      ),
      interval: v.optional(sessionInterval),
      interval_ms: v.optional(sessionInterval),
    },
    (issue) => (issue.path?.[0]?.origin === 'key' ? 'is required' : BODY_PROBLEM),
  ),
  v.transform(({ node, target, interval, interval_ms }) => ({ node, target, intervalMs: interval ?? interval_ms ?? 1000 })),
);

/** GET /api/sessions/:id: `since` (epoch ms) asks only for the samples after it. */
const DETAIL_QUERY = v.object({ since: v.optional(v.pipe(v.string(), v.transform(Number), v.finite('expected epoch ms'))) });
/** GET /api/sessions/:id/export */
const EXPORT_QUERY = v.object({ format: choiceParam(['csv', 'json'], 'json') });
/** GET /api/processes: the averaging window (default 5 minutes) and, optionally, one node by name or IP. */
const PROCESSES_QUERY = v.object({
  window: v.optional(
    v.pipe(
      v.string(),
      v.check((text) => parseDuration(text) !== null, WINDOW_PROBLEM),
      v.transform((text) => parseDuration(text)!),
      v.check((ms) => ms > 0 && ms <= MAX_WINDOW_MS, WINDOW_PROBLEM),
    ),
    '5m',
  ),
  node: v.optional(v.string()),
});
/** GET /api/processes/:node/:name/history: the range, default the last hour. */
const historyQuery = (now: () => number) => v.pipe(v.object({ from: timeParam('-1h'), to: timeParam('now') }), atNow(now), fromBeforeTo());
const CSV_COLUMNS = ['ts_ms', 'rss_bytes', 'rss_anon_bytes', 'rss_file_bytes', 'swap_bytes', 'vsize_bytes', 'cpu_pct', 'procs'] as const;

export function sessionRoutes(service: SessionService, store: AnyMetricsStore, now: () => number): Hono {
  const app = new Hono();
  const { sessions, bridge } = service;
  const historySchema = historyQuery(now);

  const detail = async (id: string, since?: number): Promise<SessionDetail | null> => {
    if (id === DEMO_SESSION_ID) {
      const demo = demoSession(now());
      return since === undefined ? demo : { ...demo, samples: demo.samples.filter((s) => s.ts_ms > since) };
    }
    return sessions.detail(id, since);
  };

  app.post('/api/sessions', async (c) => {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      return c.json({ error: BODY_PROBLEM }, 400);
    }
    const parsed = parseBody(SESSION_BODY, json);
    if ('error' in parsed) return c.json({ error: parsed.error }, 400);
    const { node, target, intervalMs } = parsed.body;
    if (bridge.nodeStatus(node) === 'unknown' && !(await store.nodeDetail(node))) return c.json({ error: `no node named "${node}" has reported` }, 404);
    const { session, outcome } = await bridge.startSession(node, target, intervalMs, REPLY_WAIT_MS);
    const res = outcomeResponse(c, outcome, { session, url: `/sessions/${session}` });
    return outcome.status === 'replied' && outcome.reply.ok
      ? c.json({ id: session, session, url: `/sessions/${session}`, result: outcome.reply.result }, 201)
      : res;
  });

  app.post('/api/sessions/:id/stop', async (c) => {
    const id = c.req.param('id');
    if (id === DEMO_SESSION_ID) return c.json({ error: 'the demo session is synthetic and cannot be stopped' }, 409);
    const outcome = await bridge.stopSession(id, REPLY_WAIT_MS);
    if (!outcome) return c.json({ error: `no session "${id}"` }, 404);
    return outcomeResponse(c, outcome, { session: id });
  });

  app.get('/api/sessions', async (c) => c.json<SessionsResponse>({ sessions: await sessions.list() }));

  app.get('/api/sessions/:id', async (c) => {
    const id = c.req.param('id');
    const query = parseParams(DETAIL_QUERY, c.req.query());
    if ('error' in query) return c.json({ error: query.error }, 400);
    const d = await detail(id, query.params.since);
    return d ? c.json(d) : c.json({ error: `no session "${id}"` }, 404);
  });

  app.get('/api/sessions/:id/export', async (c) => {
    const id = c.req.param('id');
    const query = parseParams(EXPORT_QUERY, c.req.query());
    if ('error' in query) return c.json({ error: query.error }, 400);
    const { format } = query.params;
    const d = await detail(id);
    if (!d) return c.json({ error: `no session "${id}"` }, 404);
    const file = `session-${id}.${format}`;
    c.header('content-disposition', `attachment; filename="${file}"`);
    if (format === 'json') return c.json(d);
    // ISO 8601 first, as the node export has it: a spreadsheet reads it as a time, ts_ms stays exact.
    const lines = [
      `time,${CSV_COLUMNS.join(',')}`,
      ...d.samples.map((s) => `${new Date(s.ts_ms).toISOString()},${CSV_COLUMNS.map((k) => s[k] ?? '').join(',')}`),
    ];
    c.header('content-type', 'text/csv; charset=utf-8');
    return c.body(`${lines.join('\n')}\n`);
  });

  app.get('/api/processes', async (c) => {
    const query = parseParams(PROCESSES_QUERY, c.req.query());
    if ('error' in query) return c.json({ error: query.error }, 400);
    const { window: windowMs, node: nodeParam } = query.params;
    let nodes: string[] | null = null;
    if (nodeParam !== undefined) {
      nodes = await resolveNode(store, nodeParam);
      if (nodes.length === 0) return c.json({ error: `node=${JSON.stringify(nodeParam)}: no node has this name or IP address` }, 404);
    }
    const to = now();
    const from = to - windowMs;
    await sessions.flushProcesses();
    return c.json<ProcessesResponse>({ window_ms: windowMs, from_ms: from, to_ms: to, processes: await sessions.processAverages(from, to, nodes) });
  });

  app.get('/api/processes/:node/:name/history', async (c) => {
    const node = c.req.param('node');
    const name = c.req.param('name');
    const nodes = await resolveNode(store, node);
    if (nodes.length === 0) return c.json({ error: `no node has the name or IP address "${node}"` }, 404);
    const query = parseParams(historySchema, c.req.query());
    if ('error' in query) return c.json({ error: query.error }, 400);
    const { from, to } = query.params;
    await sessions.flushProcesses();
    return c.json({ node: nodes[0], name, from_ms: from, to_ms: to, points: await sessions.processHistory(nodes[0]!, name, from, to) });
  });

  return app;
}

/**
 * A node named, or addressed by IP: the names of the nodes whose birth record lists that address
 * (an agent that predates ip addresses in the birth record is found by name only).
 */
export async function resolveNode(store: AnyMetricsStore, nameOrIp: string): Promise<string[]> {
  const nodes = await store.listNodes();
  if (nodes.some((n) => n.name === nameOrIp)) return [nameOrIp];
  return nodes.filter((n) => (n.info?.ip_addresses ?? []).includes(nameOrIp)).map((n) => n.name);
}
