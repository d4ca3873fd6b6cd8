// POST /api/enrolments {"node": NAME, "tags"?: [...]}: enrols a node with the embedded broker's
// credentials and returns its token once, so the "Add a node" dialog shows a join line that works as
// pasted; the tags are stored as the node's hub tags (hub/nodes/node-tags.ts).
// Admin only (web/route-roles.ts); present only when the hub runs the broker with credentials.
import { Hono } from 'hono';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import type { NodeTags } from '../hub/nodes/node-tags.ts';
import { nodeNameProblem, tagListProblems } from '../protocol/index.ts';
import type { ApiError, EnrolmentResponse } from '../shared/api-types.ts';

export function enrolRoutes(credentials: MqttCredentials, nodeTags?: Pick<NodeTags, 'set'>): Hono {
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
    const tags = (body as { tags?: unknown }).tags ?? [];
    const tagProblems = tagListProblems(tags);
    if (tagProblems.length) return c.json<ApiError>({ error: `tags: ${tagProblems.join('; ')}` }, 400);
    if ((tags as string[]).length && !nodeTags) return c.json<ApiError>({ error: 'tags: this hub cannot store tags' }, 400);
    let token: string;
    try {
      token = credentials.add(node as string, 'node');
    } catch (err) {
      return c.json<ApiError>({ error: (err as Error).message }, 409);
    }
    // Checked above, so only the store can fail here: the node is enrolled all the same, and says so.
    const stored = (tags as string[]).length ? await nodeTags!.set(node as string, tags as string[]) : [];
    return c.json<EnrolmentResponse>({ node: node as string, token, tags: stored }, 201);
  });
  return app;
}
