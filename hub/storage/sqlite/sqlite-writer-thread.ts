// The SQLite writer's thread: ingest's batches are inserted with their processes' history, their
// watermarks moved and the commit fsynced here, on a connection of its own, so that the hub's main
// thread (the broker in `remonitor up`, decoding, the API) never waits on the disk. The rollups and
// purges run here too: on the main thread, they waited for this thread's commits to get the lock.
// The same file also runs the start-up integrity check on a thread of its own (`check` in its data):
// it reads the whole file, seconds a gigabyte, and must hold up neither the writes nor the loop.
// Built to dist/hub-writer-thread.mjs; hub/storage/sqlite/threaded-sample-writer.ts starts it and speaks to it.
import { parentPort, workerData } from 'node:worker_threads';
import { AckTracker } from '../../ingest/ack-tracker.ts';
import { PackedSamples } from '../packed-samples.ts';
import { writePacked } from './sqlite-batch-write.ts';
import { SessionStore } from '../../sessions/sessions.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { BackgroundPacer } from './background-pacer.ts';
import { databaseError, openDatabase, quickCheck } from '../../../shared/sqlite-open.ts';
import type { CheckThreadData, IntegrityReport, WriterRequest, WriterResult, WriterThreadData } from './threaded-sample-writer.ts';

const port = parentPort!;
const data = workerData as WriterThreadData | CheckThreadData;
if ('check' in data) runCheck(data.path);
else serveWrites(data);

function runCheck(path: string): void {
  const started = performance.now();
  const db = openDatabase(path, { readonly: true });
  const problems = quickCheck(db);
  db.close();
  port.postMessage({ problems, ms: Math.round(performance.now() - started) } satisfies IntegrityReport);
}

function serveWrites({ path, retention, fixedNowMs }: WriterThreadData): void {
  const store = openSqliteStore(path, { retention, now: fixedNowMs === undefined ? undefined : () => fixedNowMs });
  const targets = { store, processes: new SessionStore(store.db), acks: new AckTracker(store.db) };
  const pacer = new BackgroundPacer();
  const { pause } = pacer;

  /** Runs one request; rollups and purges yield between their small transactions, so writes go on meanwhile. */
  async function handle(request: WriterRequest): Promise<WriterResult> {
    switch (request.type) {
      case 'write': {
        const started = performance.now();
        const written = writePacked(targets, new PackedSamples(request.samples), request.nodeWrites);
        pacer.wrote(performance.now() - started);
        return written;
      }
      case 'spoolReport':
        return targets.acks.spoolReport(request.node, request.report);
      case 'deriveRollups':
        pacer.begin();
        return store.deriveRollups(pause);
      case 'purgeExpired':
        pacer.begin();
        return store.purgeExpired(pause);
      case 'removeNode': {
        pacer.begin();
        const removed = await store.removeNode(request.node, request.options, pause);
        // Its watermarks were deleted: the tracker reads the others again as they are needed.
        if (removed && request.options.purge) targets.acks = new AckTracker(store.db);
        return removed;
      }
      case 'close':
        store.close();
        return null;
    }
  }

  port.on('message', (request: WriterRequest) => {
    handle(request).then(
      (ok) => port.postMessage({ id: request.id, ok }),
      // Named, the file reaches ingest's errors and /healthz ("…/remonitor.db: database is locked").
      (err: Error) => port.postMessage({ id: request.id, error: databaseError(path, err).message }),
    );
  });
}
