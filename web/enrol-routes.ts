// POST /api/enrolments {"node": NAME}: enrols a node with the embedded broker's credentials and
// returns its token once, so the "Add a node" dialog shows a join line that works as pasted.
// Admin only (web/route-roles.ts); present only when the hub runs the broker with credentials.
import { Hono } from 'hono';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { nodeNameProblem } from '../protocol/index.ts';
import type { ApiError, EnrolmentResponse } from '../shared/api-types.ts';

export function enrolRoutes(credentials: MqttCredentials): Hono {
  const app = new Hono();
  app.post('/api/enrolments', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json<ApiError>({ error: 'body must be JSON like {"node": "kitchen-pi"}' }, 400);
    }
    const node = (body as { node?: unknown } | null)?.node;
    const problem = nodeNameProblem(node);
    if (problem) return c.json<ApiError>({ error: problem }, 400);
    try {
      return c.json<EnrolmentResponse>({ node: node as string, token: credentials.add(node as string, 'node') }, 201);
    } catch (err) {
      return c.json<ApiError>({ error: (err as Error).message }, 409);
    }
  });
  return app;
}
