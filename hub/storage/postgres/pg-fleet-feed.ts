// The whole fleet's newest samples and statuses, read from the shared database once a second. In
// a group of hubs each one's ingest sees only its share of every node's samples, so what must
// follow every node (the dashboard's live view; alarms and process history in the coordinator)
// follows this instead: a hub's clock marks what changed (nodes.stored_ms), and only that is read.
import { decodeSample, type Sample } from '../../../protocol/index.ts';
import { sampleEvent, type LiveFeed } from '../../live-feed.ts';
import type { PgStore } from './pg-store.ts';
import { toPoint } from '../sample-point.ts';

/** How far back each poll looks again: a batch's commit lands after the time it stamped. */
const LATE_COMMIT_MS = 10_000;

export function pollPgIntoFeed(store: PgStore, feed: LiveFeed, intervalMs = 1000, onError: (err: Error) => void = () => undefined): () => void {
  const seen = new Map<string, { ts: number; processesTs: number; status: string }>();
  let since = 0;
  let polling = false;
  let first = true;
  const decoded = (raw: Buffer | null): Sample | null => {
    try {
      return raw ? decodeSample(raw) : null;
    } catch {
      return null; // stored by a hub that validated it; a record this version cannot read is skipped
    }
  };
  const poll = async () => {
    if (polling) return;
    polling = true;
    const startedMs = Date.now();
    try {
      for (const row of await store.changedNodes(since)) {
        const before = seen.get(row.name) ?? { ts: -1, processesTs: -1, status: 'unknown' };
        const latest = decoded(row.latest);
        // The newest sample with process lists, when the newest sample has none (they come every few samples).
        const withProcesses = latest?.top_cpu ? null : decoded(row.latest_processes);
        const processesTs = withProcesses?.ts_ms ?? (latest?.top_cpu ? latest.ts_ms : before.processesTs);
        const now = { ts: latest?.ts_ms ?? before.ts, processesTs, status: row.status };
        seen.set(row.name, now);
        if (first) continue; // the first pass only learns where each node stands
        // Oldest first: a listener that judges the present (alarms) skips what is older than it has seen.
        if (withProcesses && withProcesses.ts_ms > before.processesTs && withProcesses.ts_ms < now.ts)
          feed.publish(sampleEvent(row.name, withProcesses, toPoint(withProcesses)));
        if (latest && latest.ts_ms > before.ts) {
          const event = sampleEvent(row.name, latest, toPoint(latest));
          // The node's clock as last measured (by whichever hub took its newest live sample).
          if (row.clock_skew_ms !== null && !latest.historical && event.type === 'sample') event.clock_skew_s = row.clock_skew_ms / 1000;
          feed.publish(event);
        }
        if (row.status !== before.status && row.status !== 'unknown') feed.publish({ type: 'status', node: row.name, status: row.status });
      }
      first = false;
      since = startedMs - LATE_COMMIT_MS;
    } catch (err) {
      onError(err as Error); // the database away for a moment: the next poll tries again
    } finally {
      polling = false;
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), intervalMs);
  return () => clearInterval(timer);
}
