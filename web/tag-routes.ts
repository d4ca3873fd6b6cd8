// PUT /api/nodes/:node/tags {"tags": ["ci", "room:kitchen"]}: replaces the tags given to a node on
// the hub (hub/nodes/node-tags.ts); its agent's own tags stay (protocol/info.ts, combineTags). Admin only
// (web/route-roles.ts). Answers with the node's tags, both sources together, and the hub's part.
import { Hono } from 'hono';
import * as v from 'valibot';
import type { NodeTags } from '../hub/nodes/node-tags.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import { nodeNameProblem, tagListProblems } from '../protocol/index.ts';
import type { ApiError, NodeTagsResponse } from '../shared/api-types.ts';
import { parseBody } from './request-params.ts';

/** A body's list of tags: each checked, every bad one named. */
export const TAGS_FIELD = v.pipe(
  v.unknown(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.typed) for (const problem of tagListProblems(dataset.value)) addIssue({ message: problem });
  }),
  v.transform((tags) => tags as string[]),
);

const BODY_EXAMPLE = 'body must be JSON like {"tags": ["ci", "room:kitchen"]}';
const TAGS_BODY = v.object({ tags: TAGS_FIELD }, BODY_EXAMPLE);

export function tagRoutes(nodeTags: Pick<NodeTags, 'set'>, store: Pick<AnyMetricsStore, 'nodeDetail'>): Hono {
  const app = new Hono();
  app.put('/api/nodes/:node/tags', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return c.json<ApiError>({ error: problem }, 400);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json<ApiError>({ error: BODY_EXAMPLE }, 400);
    }
    const parsed = parseBody(TAGS_BODY, body);
    if ('error' in parsed) return c.json<ApiError>({ error: parsed.error }, 400);
    const { tags } = parsed.body;
    if (!(await store.nodeDetail(node))) return c.json<ApiError>({ error: `no node named "${node}" has reported or been enrolled with tags` }, 404);
    try {
      await nodeTags.set(node, tags);
    } catch (err) {
      if (err instanceof TypeError) return c.json<ApiError>({ error: `tags: ${err.message}` }, 400);
      throw err;
    }
    const detail = await store.nodeDetail(node);
    return c.json<NodeTagsResponse>({ node, tags: detail?.tags ?? [], hub_tags: detail?.hub_tags ?? [] });
  });
  return app;
}
