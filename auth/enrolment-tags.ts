// Tags given at enrolment by `remonitor node add NAME --tags a,b`, which may run while the hub
// does not (or on PostgreSQL, out of the CLI's reach): a row each in auth.db, which the CLI and the
// hub share, taken into the hub's store at its start and within a few seconds while it runs
// (hub/node-tags.ts), then deleted. As auth/node-removals.ts does for removals.
import type { AuthDb } from './auth-db.ts';

export interface EnrolmentTagRequest {
  node: string;
  tags: string[];
  requestedMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS enrolment_tags (
  node         TEXT PRIMARY KEY,
  tags         TEXT NOT NULL,               -- JSON list of words (protocol/info.ts, TAG_PATTERN)
  requested_ms INTEGER NOT NULL
);`;

export class EnrolmentTags {
  private readonly insert;
  private readonly pendingStmt;
  private readonly doneStmt;

  constructor(
    db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
    // A second enrolment before the hub took the first: the later tags win.
    this.insert = db.prepare<[string, string, number]>(
      `INSERT INTO enrolment_tags (node, tags, requested_ms) VALUES (?, ?, ?)
       ON CONFLICT (node) DO UPDATE SET tags = excluded.tags, requested_ms = excluded.requested_ms`,
    );
    this.pendingStmt = db.prepare<[], { node: string; tags: string; requested_ms: number }>('SELECT * FROM enrolment_tags ORDER BY requested_ms, node');
    this.doneStmt = db.prepare<[string, number]>('DELETE FROM enrolment_tags WHERE node = ? AND requested_ms = ?');
  }

  /** `tags` checked by the caller. */
  request(node: string, tags: readonly string[]): void {
    this.insert.run(node, JSON.stringify(tags), this.now());
  }

  pending(): EnrolmentTagRequest[] {
    return this.pendingStmt.all().map((r) => ({ node: r.node, tags: JSON.parse(r.tags) as string[], requestedMs: r.requested_ms }));
  }

  /** Forgets a request once applied; one made again meanwhile (another time) stays. */
  done(request: EnrolmentTagRequest): void {
    this.doneStmt.run(request.node, request.requestedMs);
  }
}
