// Node removals asked for by `remonitor node remove` while the hub may be running: a row each in
// auth.db (which the CLI and the hub share, as for `node add`), applied by the hub at its start and
// within a few seconds while it runs (hub/node-removal.ts), then deleted.
import type { AuthDb } from './auth-db.ts';

export interface RemovalRequest {
  node: string;
  purge: boolean;
  requestedMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS node_removals (
  node         TEXT PRIMARY KEY,
  purge        INTEGER NOT NULL,            -- 1: delete its stored data too
  requested_ms INTEGER NOT NULL
);`;

export class NodeRemovals {
  private readonly insert;
  private readonly pendingStmt;
  private readonly doneStmt;

  constructor(
    db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
    // A second request before the hub applied the first: purge if either asked for it.
    this.insert = db.prepare<[string, number, number]>(
      `INSERT INTO node_removals (node, purge, requested_ms) VALUES (?, ?, ?)
       ON CONFLICT (node) DO UPDATE SET purge = max(purge, excluded.purge), requested_ms = excluded.requested_ms`,
    );
    this.pendingStmt = db.prepare<[], { node: string; purge: number; requested_ms: number }>('SELECT * FROM node_removals ORDER BY requested_ms, node');
    this.doneStmt = db.prepare<[string, number]>('DELETE FROM node_removals WHERE node = ? AND requested_ms = ?');
  }

  request(node: string, purge: boolean): void {
    this.insert.run(node, purge ? 1 : 0, this.now());
  }

  pending(): RemovalRequest[] {
    return this.pendingStmt.all().map((r) => ({ node: r.node, purge: r.purge === 1, requestedMs: r.requested_ms }));
  }

  /** Forgets a request once applied; one made again meanwhile (another time) stays. */
  done(request: RemovalRequest): void {
    this.doneStmt.run(request.node, request.requestedMs);
  }
}
