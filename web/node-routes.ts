// DELETE /api/nodes/:node[?purge=1]: removes a node from the fleet (hub/nodes/node-removal.ts); admin only
// (web/route-roles.ts). Without purge its data stays, readable by export; with it, it is deleted.
import { Hono } from 'hono';
import * as v from 'valibot';
import type { NodeRemoval, RemovalResult } from '../hub/nodes/node-removal.ts';
import { nodeNameProblem } from '../protocol/index.ts';
import type { ApiError, NodeSummary } from '../shared/api-types.ts';
import { parseParams } from './request-params.ts';

/** DELETE /api/nodes/:node */
export type NodeRemovalResponse = RemovalResult;

/** `?purge=1` (or true) deletes its stored data too; without it, or 0 (false), the data stays. */
const REMOVE_QUERY = v.object({
  purge: v.optional(
    v.pipe(
      v.picklist(['1', 'true', '0', 'false'], 'expected 1 (delete its data too) or 0'),
      v.transform((text) => text === '1' || text === 'true'),
    ),
    '0',
  ),
});

export function nodeRoutes(removal: Pick<NodeRemoval, 'remove'>): Hono {
  const app = new Hono();
  app.delete('/api/nodes/:node', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return c.json<ApiError>({ error: problem }, 400);
    const query = parseParams(REMOVE_QUERY, c.req.query());
    if ('error' in query) return c.json<ApiError>({ error: query.error }, 400);
    const result = await removal.remove(node, query.params.purge);
    if (!result) return c.json<ApiError>({ error: `no node named "${node}" has reported or is enrolled` }, 404);
    return c.json<NodeRemovalResponse>(result);
  });
  return app;
}

/** Default of `--stale-after`: a node silent this long is listed as stale, ms. */
export const DEFAULT_STALE_AFTER_MS = 24 * 3_600_000;

/**
 * GET /api/nodes with each node marked `stale` when its newest sample is older than `staleAfterMs`
 * (one that never sent a sample is not: it may be starting), and how many are: the ones a person
 * may want to remove.
 */
export function withStale<N extends Pick<NodeSummary, 'last_seen_ms' | 'stale'>>(
  nodes: N[],
  nowMs: number,
  staleAfterMs: number,
): { nodes: N[]; stale: number } {
  let stale = 0;
  for (const node of nodes) {
    node.stale = node.last_seen_ms !== null && nowMs - node.last_seen_ms > staleAfterMs;
    if (node.stale) stale++;
  }
  return { nodes, stale };
}
