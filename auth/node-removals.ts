// Node removals asked for by `remonitor node remove` while the hub may be running: a request each
// in auth.db (auth/request-queue.ts), carried out by the hub (hub/nodes/node-removal.ts).
import type { AuthDb } from './auth-db.ts';
import { type QueuedRequest, RequestQueue } from './request-queue.ts';

export type RemovalRequest = QueuedRequest<{ purge: boolean }>;

export class NodeRemovals extends RequestQueue<{ purge: boolean }> {
  constructor(db: AuthDb, now?: () => number) {
    super(
      db,
      {
        table: 'node_removals',
        column: 'purge', // 1: delete its stored data too
        columnType: 'INTEGER NOT NULL',
        // A second request before the hub applied the first: purge if either asked for it.
        merge: 'max(purge, excluded.purge)',
        toColumn: ({ purge }) => (purge ? 1 : 0),
        fromColumn: (stored) => {
          if (stored !== 0 && stored !== 1) throw new TypeError(`purge must be 0 or 1, got ${JSON.stringify(stored)}`);
          return { purge: stored === 1 };
        },
      },
      now,
    );
  }
}
