// A live feed for a web server that runs without ingest (`remonitor web` over an existing data
// directory): it polls the store and publishes what changed. (Over PostgreSQL: hub/storage/postgres/pg-fleet-feed.ts.)
import type { LiveFeed } from '../live-feed.ts';
import type { MetricsStore } from './store.ts';

export function pollStoreIntoFeed(store: MetricsStore, feed: LiveFeed, intervalMs = 1000, onError: (err: Error) => void = () => undefined): () => void {
  const seen = new Map<string, { lastSeen: number | null; status: string }>();
  const poll = () => {
    if (feed.size === 0) return;
    try {
      for (const node of store.listNodes()) {
        const before = seen.get(node.name);
        seen.set(node.name, { lastSeen: node.last_seen_ms, status: node.status });
        if (!before) continue; // first pass only learns where each node stands
        if (node.status !== before.status && node.status !== 'unknown') {
          feed.publish({ type: 'status', node: node.name, status: node.status });
        }
        if (node.latest && node.last_seen_ms !== before.lastSeen) {
          feed.publish({ type: 'sample', node: node.name, point: node.latest });
        }
      }
    } catch (err) {
      onError(err as Error); // a database busy for a moment: the next poll tries again
    }
  };
  const timer = setInterval(poll, intervalMs);
  return () => clearInterval(timer);
}
