// The SQLite writer's thread: ingest's batches are inserted with their processes' history, their
// watermarks moved and the commit fsynced here, on a connection of its own, so that the hub's main
// thread (the broker in `remonitor up`, decoding, the API) never waits on the disk. The rollups and
// purges run here too: on the main thread, they waited for this thread's commits to get the lock.
// Built to dist/hub-writer-thread.mjs; hub/threaded-sample-writer.ts starts it and speaks to it.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { AckTracker } from './ack-tracker.ts';
import { PackedSamples } from './packed-samples.ts';
import { writePacked } from './sample-writer.ts';
import { SessionStore } from './sessions.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { WriterRequest, WriterResult, WriterThreadData } from './threaded-sample-writer.ts';

const { path, retention } = workerData as WriterThreadData;
const store = openSqliteStore(path, { retention });
const targets = { store, processes: new SessionStore(store.db), acks: new AckTracker(store.db) };
const port = parentPort!;
const pause = () => yieldToLoop().then(() => undefined);

/** Runs one request; rollups and purges yield between their small transactions, so writes go on meanwhile. */
async function handle(request: WriterRequest): Promise<WriterResult> {
  switch (request.type) {
    case 'write':
      return writePacked(targets, new PackedSamples(request.samples), request.nodeWrites);
    case 'spoolReport':
      return targets.acks.spoolReport(request.node, request.report);
    case 'deriveRollups':
      return store.deriveRollups(pause);
    case 'purgeExpired':
      return store.purgeExpired(pause);
    case 'close':
      store.close();
      return null;
  }
}

port.on('message', (request: WriterRequest) => {
  handle(request).then(
    (ok) => port.postMessage({ id: request.id, ok }),
    (err: Error) => port.postMessage({ id: request.id, error: err.message }),
  );
});
