// DELETE /api/nodes/:node[?purge=1]: removes a node from the fleet (hub/nodes/node-removal.ts); admin only
// (web/route-roles.ts). Without purge its data stays, readable by export; with it, it is deleted.
import { Hono } from 'hono';
import type { NodeRemoval, RemovalResult } from '../hub/nodes/node-removal.ts';
import { nodeNameProblem } from '../protocol/index.ts';
import type { ApiError, NodeSummary } from '../shared/api-types.ts';

/** DELETE /api/nodes/:node */
export type NodeRemovalResponse = RemovalResult;

const PURGE_VALUES: Record<string, boolean> = { '1': true, true: true, '0': false, false: false };

export function nodeRoutes(removal: Pick<NodeRemoval, 'remove'>): Hono {
  const app = new Hono();
  app.delete('/api/nodes/:node', async (c) => {
    const node = c.req.param('node');
    const problem = nodeNameProblem(node);
    if (problem) return c.json<ApiError>({ error: problem }, 400);
    const raw = c.req.query('purge');
    const purge = raw === undefined ? false : PURGE_VALUES[raw];
    if (purge === undefined) return c.json<ApiError>({ error: `purge=${JSON.stringify(raw)}: expected 1 (delete its data too) or 0` }, 400);
    const result = await removal.remove(node, purge);
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
export function withStale(nodes: NodeSummary[], nowMs: number, staleAfterMs: number): { nodes: NodeSummary[]; stale: number } {
  let stale = 0;
  for (const node of nodes) {
    node.stale = node.last_seen_ms !== null && nowMs - node.last_seen_ms > staleAfterMs;
    if (node.stale) stale++;
  }
  return { nodes, stale };
}
