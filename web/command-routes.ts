// POST /api/nodes/:node/commands, GET /api/commands/:id, GET /api/nodes/:node/control: remote
// commands through the hub's command bridge, with a bounded wait for the agent's reply.
import { Hono, type Context } from 'hono';
import { nodeNameProblem } from '../protocol/topics.ts';
import type { SendOutcome } from '../hub/sessions/command-bridge.ts';
import type { SessionService } from '../hub/sessions/session-service.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import type { CommandResponse } from '../shared/session-types.ts';

/** How long a request waits for the agent before answering 202 with the id to poll. */
export const REPLY_WAIT_MS = 5000;

/** The HTTP answer for a bridge outcome; shared with the session routes. */
export function outcomeResponse(c: Context, outcome: SendOutcome, extra: Record<string, unknown> = {}) {
  switch (outcome.status) {
    case 'invalid':
      return c.json({ error: outcome.message, ...extra }, 400);
    case 'offline':
      return c.json({ error: outcome.message, id: outcome.id, ...extra }, 504);
    case 'pending':
      return c.json<CommandResponse & Record<string, unknown>>(
        { id: outcome.id, status: 'pending', poll: `/api/commands/${encodeURIComponent(outcome.id)}`, ...extra },
        202,
      );
    case 'replied': {
      const r = outcome.reply;
      if (r.ok) return c.json({ id: outcome.id, status: 'replied', ok: true, result: r.result, ...extra }, 200);
      // The agent refused it: its reason is the error.
      return c.json({ id: outcome.id, status: 'replied', ok: false, error: `the agent refused: ${r.error}`, ...extra }, 422);
    }
  }
}

export function commandRoutes(service: SessionService, store: AnyMetricsStore): Hono {
  const app = new Hono();
  const { bridge } = service;

  app.post('/api/nodes/:node/commands', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return c.json({ error: problem }, 400);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'the body must be a JSON object such as {"action": "ping"}' }, 400);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      return c.json({ error: 'the body must be a JSON object such as {"action": "ping"}' }, 400);
    if (bridge.nodeStatus(node) === 'unknown' && !(await store.nodeDetail(node))) return c.json({ error: `no node named "${node}" has reported` }, 404);
    return outcomeResponse(c, await bridge.send(node, body as Record<string, unknown>, REPLY_WAIT_MS));
  });

  app.get('/api/commands/:id', (c) => {
    const id = c.req.param('id');
    const known = bridge.replyTo(id);
    if (!known) return c.json({ error: `no command with id "${id}" was sent by this hub (or it is too old to be remembered)` }, 404);
    if (!known.reply) return c.json<CommandResponse>({ id, status: 'pending', poll: `/api/commands/${encodeURIComponent(id)}` }, 202);
    return outcomeResponse(c, { status: 'replied', id, reply: known.reply }, { node: known.node });
  });

  app.get('/api/nodes/:node/control', (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return c.json({ error: problem }, 400);
    return c.json({ ...bridge.controlState(node), status: bridge.nodeStatus(node) });
  });

  return app;
}
