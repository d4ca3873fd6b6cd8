// A purge run of a live SQLite hub in the first 10 min of an hour, seeded into its file before it
// opens it, so that bench/hub-ingest.ts can measure ingest while the writer's thread compacts: ten
// minutes of a fleet at 1 Hz past COMPACT_AFTER_MS (the raw rows every run moves into chunks), and
// an hour that has ended (once an hour, a run also moves each node's rollup and labelled buckets of
// that hour into their windows' chunks, which hold the hours before). Written through the store, as
// the hub writes them, with its clock following the seeding so that rollups are derived as live.
import { encodeSample } from '../protocol/index.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { COMPACT_AFTER_MS } from '../hub/storage/sqlite/chunk-store.ts';
import type { IncomingSample } from '../hub/storage/store.ts';
import { simulatedFleet } from './sample-fleet.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Hours of history before the hour whose buckets the purge compacts: the chunks it merges into. */
const HISTORY_HOURS = 6;

export interface CompactionBacklog {
  /** Samples written in all. */
  samples: number;
  /** Raw rows older than COMPACT_AFTER_MS at `nowMs`: what the next purge run moves into chunks. */
  rawRows: number;
  /** The hour whose rollup and labelled buckets the next purge run compacts: [start, end). */
  hourMs: [number, number];
}

/**
 * Seeds the SQLite file at `path` for a purge run at about `nowMs` (or up to some minutes later):
 * `nodes` nodes, a sample a minute for HISTORY_HOURS up to the end of an hour at least `hotMinutes`
 * + 11 min before `nowMs` (compacted as earlier runs would have, but for that last hour's buckets
 * and its last minutes' raw rows), then a sample a second for the `hotMinutes` that end 11 min before `nowMs`.
 */
export async function seedCompactionBacklog(path: string, nodes: number, hotMinutes: number, nowMs = Date.now()): Promise<CompactionBacklog> {
  const hotTo = Math.floor((nowMs - COMPACT_AFTER_MS - MINUTE) / MINUTE) * MINUTE;
  const hotFrom = hotTo - hotMinutes * MINUTE;
  const hourEnd = Math.floor(hotFrom / HOUR) * HOUR;
  const historyStart = hourEnd - HISTORY_HOURS * HOUR;
  let simNow = historyStart;
  const store = openSqliteStore(path, { now: () => simNow });
  const fleet = simulatedFleet(nodes, historyStart);
  const noPause = async () => undefined;
  let samples = 0;
  let batch: IncomingSample[] = [];
  const flush = () => {
    store.insertBatch(batch);
    samples += batch.length;
    batch = [];
  };
  let derivedAt = historyStart;
  const write = async (from: number, to: number, stepMs: number) => {
    for (let ts = from; ts < to; ts += stepMs) {
      simNow = ts;
      for (const node of fleet) {
        const sample = node.next(ts);
        batch.push({ node: node.name, sample, raw: encodeSample(sample) });
      }
      if (batch.length >= 2000) flush();
      // Live, the hub derives every minute; every 10 minutes of samples keeps the seeding short.
      if (ts - derivedAt >= 10 * MINUTE) {
        flush();
        await store.deriveRollups(noPause);
        derivedAt = ts;
      }
    }
    flush();
    simNow = to;
    await store.deriveRollups(noPause);
  };
  try {
    await write(historyStart, hourEnd, MINUTE);
    // The runs before the hour ended compacted the rest; its buckets wait for one 10 min after its end.
    simNow = hourEnd + COMPACT_AFTER_MS / 2;
    await store.purgeExpired(noPause);
    await write(hotFrom, hotTo, 1000);
    const rawRows = (store.db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    return { samples, rawRows, hourMs: [hourEnd - HOUR, hourEnd] };
  } finally {
    store.close();
  }
}
