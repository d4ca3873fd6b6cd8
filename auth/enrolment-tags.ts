// Tags given at enrolment by `remonitor node add NAME --tags a,b`, which may run while the hub
// does not (or on PostgreSQL, out of the CLI's reach): a request each in auth.db
// (auth/request-queue.ts), taken into the hub's store by hub/nodes/node-tags.ts.
import { tagListProblems } from '../protocol/index.ts';
import type { AuthDb } from './auth-db.ts';
import { type QueuedRequest, RequestQueue } from './request-queue.ts';

export type EnrolmentTagRequest = QueuedRequest<{ tags: string[] }>;

export class EnrolmentTags extends RequestQueue<{ tags: string[] }> {
  constructor(db: AuthDb, now?: () => number) {
    super(
      db,
      {
        table: 'enrolment_tags',
        column: 'tags', // JSON list of words (protocol/info.ts, TAG_PATTERN)
        columnType: 'TEXT NOT NULL',
        // A second enrolment before the hub took the first: the later tags win.
        merge: 'excluded.tags',
        toColumn: ({ tags }) => JSON.stringify(tags),
        fromColumn: (stored) => {
          const tags: unknown = JSON.parse(String(stored));
          const problems = tagListProblems(tags);
          if (problems.length) throw new TypeError(problems.join('; '));
          return { tags: tags as string[] };
        },
      },
      now,
    );
  }
}
