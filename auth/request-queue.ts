// Requests the CLI leaves for the hub in auth.db, which both open (as for `node add`): the CLI may
// run while the hub does not, or while it runs on PostgreSQL out of the CLI's reach. A row per
// node, kept until the hub has carried it out (hub/nodes/request-poller.ts reads them at the hub's start
// and every few seconds), so that a request outlives a restart of either. Used for node removals
// (auth/node-removals.ts) and tags given at enrolment (auth/enrolment-tags.ts).
import { nodeNameProblem } from '../protocol/index.ts';
import type { AuthDb } from './auth-db.ts';

/** A request as read back: its node, when it was asked for, and its own fields. */
export type QueuedRequest<T> = T & { node: string; requestedMs: number };

/** A row that cannot be a request (auth.db edited by hand); it has been deleted. */
export interface DroppedRow {
  node: unknown;
  problem: string;
}

/** One kind of request: a table (node TEXT PRIMARY KEY, <column>, requested_ms INTEGER NOT NULL). */
export interface RequestTable<T> {
  table: string;
  /** The request's own column. */
  column: string;
  /** Its SQL type. */
  columnType: string;
  /**
   * The column's value when a node is asked for again before the hub took the first request, as
   * SQL (`excluded.<column>` is the new request's).
   */
  merge: string;
  toColumn(fields: T): string | number;
  /** The fields of a stored value; throws naming what is wrong with a bad one. */
  fromColumn(stored: unknown): T;
}

interface Row {
  rowid: number;
  node: unknown;
  value: unknown;
  requested_ms: number;
}

export class RequestQueue<T> {
  private readonly insert;
  private readonly pendingStmt;
  private readonly doneStmt;
  private readonly dropStmt;

  constructor(
    db: AuthDb,
    private readonly kind: RequestTable<T>,
    private readonly now: () => number = Date.now,
  ) {
    const { table, column } = kind;
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
  node         TEXT PRIMARY KEY,
  ${column} ${kind.columnType},
  requested_ms INTEGER NOT NULL
)`);
    this.insert = db.prepare<[string, string | number, number]>(
      `INSERT INTO ${table} (node, ${column}, requested_ms) VALUES (?, ?, ?)
       ON CONFLICT (node) DO UPDATE SET ${column} = ${kind.merge}, requested_ms = excluded.requested_ms`,
    );
    this.pendingStmt = db.prepare<[], Row>(`SELECT rowid, node, ${column} AS value, requested_ms FROM ${table} ORDER BY requested_ms, node`);
    this.doneStmt = db.prepare<[string, number]>(`DELETE FROM ${table} WHERE node = ? AND requested_ms = ?`);
    this.dropStmt = db.prepare<[number, unknown]>(`DELETE FROM ${table} WHERE rowid = ? AND requested_ms IS ?`);
  }

  /** `fields` checked by the caller. */
  request(node: string, fields: T): void {
    this.insert.run(node, this.kind.toColumn(fields), this.now());
  }

  /** The requests waiting, oldest first; a bad row is deleted and handed to `dropped`. */
  pending(dropped: (row: DroppedRow) => void): QueuedRequest<T>[] {
    const requests: QueuedRequest<T>[] = [];
    for (const row of this.pendingStmt.all()) {
      try {
        const problem = nodeNameProblem(row.node);
        if (problem) throw new TypeError(problem);
        requests.push({ ...this.kind.fromColumn(row.value), node: row.node as string, requestedMs: row.requested_ms });
      } catch (err) {
        this.dropStmt.run(row.rowid, row.requested_ms);
        dropped({ node: row.node, problem: `${this.kind.table}: ${(err as Error).message}` });
      }
    }
    return requests;
  }

  /** Forgets a request once carried out; one made again meanwhile (another time) stays. */
  done(request: QueuedRequest<T>): void {
    this.doneStmt.run(request.node, request.requestedMs);
  }
}
