// POST /api/enrolments {"node": NAME, "tags"?: [...]}: enrols a node with the embedded broker's
// credentials and returns its token once, so the "Add a node" dialog shows a join line that works as
// pasted; the tags are stored as the node's hub tags (hub/nodes/node-tags.ts).
// Admin only (web/route-roles.ts); present only when the hub runs the broker with credentials.
import { Hono } from 'hono';
import * as v from 'valibot';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import type { NodeTags } from '../hub/nodes/node-tags.ts';
import { nodeNameProblem } from '../protocol/index.ts';
import type { ApiError, EnrolmentResponse } from '../shared/api-types.ts';
import { parseBody } from './request-params.ts';
import { TAGS_FIELD } from './tag-routes.ts';

const BODY_EXAMPLE = 'body must be JSON like {"node": "kitchen-pi"}';

/** The node's name, and its hub tags (none when left out). */
const ENROL_BODY = v.object(
  {
    node: v.pipe(
      v.unknown(),
      v.check(
        (node) => nodeNameProblem(node) === null,
        (issue) => nodeNameProblem(issue.input) ?? '',
      ),
      v.transform((node) => node as string),
    ),
    tags: v.optional(TAGS_FIELD, []),
  },
  BODY_EXAMPLE,
);

export function enrolRoutes(credentials: MqttCredentials, nodeTags?: Pick<NodeTags, 'set'>): Hono {
  const app = new Hono();
  app.post('/api/enrolments', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json<ApiError>({ error: BODY_EXAMPLE }, 400);
    }
    const parsed = parseBody(ENROL_BODY, body);
    if ('error' in parsed) return c.json<ApiError>({ error: parsed.error }, 400);
    const { node, tags } = parsed.body;
    if (tags.length && !nodeTags) return c.json<ApiError>({ error: 'tags: this hub cannot store tags' }, 400);
    let token: string;
    try {
      token = credentials.add(node, 'node');
    } catch (err) {
      return c.json<ApiError>({ error: (err as Error).message }, 409);
    }
    // Checked above, so only the store can fail here: the node is enrolled all the same, and says so.
    const stored = tags.length ? await nodeTags!.set(node, tags) : [];
    return c.json<EnrolmentResponse>({ node, token, tags: stored }, 201);
  });
  return app;
}
