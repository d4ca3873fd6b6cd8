// Removing a node from the fleet (DELETE /api/nodes/:node, `remonitor node remove`): its MQTT
// credential revoked (the broker ends a connected agent's session within seconds and refuses it
// after), the store's row retired (or its data purged too), its alarms forgotten and its retained
// messages cleared, so that neither Home Assistant nor a restarted hub brings it back. The CLI asks
// through auth.db (auth/node-removals.ts), which the hub reads at its start and every few seconds.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import type { NodeRemovals, RemovalRequest } from '../../auth/node-removals.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import { discoveryTopic } from '../integrations/home-assistant.ts';
import type { PgStore } from '../storage/postgres/pg-store.ts';
import { RequestPoller } from './request-poller.ts';
import type { SqliteStore } from '../storage/sqlite/sqlite-store.ts';
import type { RemovedNode, RemoveNodeOptions } from '../storage/store.ts';

export interface NodeRemovalOptions {
  /** The store's part (hub/storage/store.ts, removeNode): on SQLite through the writer's thread. */
  removeFromStore(node: string, options: RemoveNodeOptions): Promise<RemovedNode | null>;
  /** The broker's credentials; absent when the hub runs without them (--insecure, or another broker). */
  credentials?: MqttCredentials | null;
  alarms?: Pick<AlarmEngine, 'forgetNode'> | null;
  /** Removals asked for by the CLI; absent: only the API removes. */
  requests?: NodeRemovals | null;
  log: Logger;
  now?: () => number;
  /** How often the CLI's requests are looked for, ms (default 2 s). */
  pollMs?: number;
}

export interface RemovalResult {
  node: string;
  purged: boolean;
  /** Rows of its data deleted (0 without purge). */
  deleted: number;
  /** True when an active MQTT credential of the node was revoked now. */
  revoked: boolean;
}

// The broker looks for revocations every 2 s (broker/broker.ts); the agent it then disconnects
// leaves its last will, a retained "offline", which is cleared again once that has happened.
const CLEAR_AGAIN_MS = 5_000;

export const pauseBetweenSteps = (): Promise<void> => yieldToLoop().then(() => undefined);

export class NodeRemoval {
  private readonly now: () => number;
  /** One removal at a time: each is a few steps, and two of one node must not interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests: RequestPoller<{ purge: boolean }>;

  constructor(private readonly options: NodeRemovalOptions) {
    this.now = options.now ?? Date.now;
    this.requests = new RequestPoller({
      queue: options.requests,
      what: 'node removals',
      apply: (request) => this.applyRequest(request),
      log: options.log,
      pollMs: options.pollMs,
    });
  }

  /** Removes `node`; null when the hub never heard of it and no credential of it is enrolled. */
  remove(node: string, purge: boolean): Promise<RemovalResult | null> {
    const run = this.queue.then(() => this.removeNow(node, purge));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async removeNow(node: string, purge: boolean): Promise<RemovalResult | null> {
    const { credentials, alarms, log } = this.options;
    const atMs = this.now();
    // First the credential, so that what the agent still sends meets a removed node.
    const enrolled = credentials?.list().find((r) => r.name === node && r.role === 'node');
    const revoked = enrolled?.revokedMs === null ? credentials!.revoke(node) : false;
    const stored = await this.options.removeFromStore(node, { purge, atMs });
    if (!stored && !enrolled) return null;
    const retained = [discoveryTopic(node), haTopics.state(node)];
    alarms?.forgetNode(node, atMs, retained);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      alarms?.forgetNode(node, atMs, retained);
    }, CLEAR_AGAIN_MS);
    timer.unref();
    this.timers.add(timer);
    const result: RemovalResult = { node, purged: purge, deleted: stored?.deleted ?? 0, revoked };
    log.info(result, purge ? 'node removed, its data purged' : 'node removed, its data kept');
    return result;
  }

  /** Applies the removals the CLI asked for meanwhile, then looks for new ones every few seconds. */
  start(): Promise<void> {
    return this.requests.start();
  }

  private async applyRequest(request: RemovalRequest): Promise<void> {
    const result = await this.remove(request.node, request.purge);
    if (!result) this.options.log.warn({ node: request.node }, 'a removal was asked for a node this hub never heard of');
  }

  async stop(): Promise<void> {
    await this.requests.stop();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.queue;
  }
}

/**
 * The store's part on PostgreSQL: the node's samples there, and with `purge` its process history
 * and alarm records in the hub's own SQLite file beside it.
 */
export function removeFromPg(pg: Pick<PgStore, 'removeNode'>, local: Pick<SqliteStore, 'purgeLocalNode'>): NodeRemovalOptions['removeFromStore'] {
  return async (node, options) => {
    const removed = await pg.removeNode(node, options, pauseBetweenSteps);
    if (!removed || !options.purge) return removed;
    return { deleted: removed.deleted + (await local.purgeLocalNode(node, pauseBetweenSteps)) };
  };
}
