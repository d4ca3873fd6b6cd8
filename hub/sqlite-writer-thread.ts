// The SQLite writer's thread: ingest's batches are inserted with their processes' history, their
// watermarks moved and the commit fsynced here, on a connection of its own, so that the hub's main
// thread (the broker in `remonitor up`, decoding, the API) never waits on the disk. Built to dist/hub-writer-thread.mjs;
// hub/threaded-sample-writer.ts starts it and speaks to it.
import { parentPort, workerData } from 'node:worker_threads';
import { AckTracker } from './ack-tracker.ts';
import { PackedSamples } from './packed-samples.ts';
import { writePacked } from './sample-writer.ts';
import { SessionStore } from './sessions.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { WriterReply, WriterRequest, WriterThreadData } from './threaded-sample-writer.ts';

const { path } = workerData as WriterThreadData;
const store = openSqliteStore(path);
const targets = { store, processes: new SessionStore(store.db), acks: new AckTracker(store.db) };
const port = parentPort!;

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    switch (request.type) {
      case 'write':
        reply = { id: request.id, ok: writePacked(targets, new PackedSamples(request.samples), request.nodeWrites) };
        break;
      case 'spoolReport':
        reply = { id: request.id, ok: targets.acks.spoolReport(request.node, request.report) };
        break;
      case 'close':
        store.close();
        reply = { id: request.id, ok: null };
        break;
    }
  } catch (err) {
    reply = { id: request.id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
