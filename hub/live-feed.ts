// Live events from ingest to whoever listens in the hub (the SSE route, alarms…): a tiny typed
// publish/subscribe. Stored samples come with the whole decoded sample for in-process listeners;
// the SSE route sends browsers only the StreamEvent part.
import type { Sample } from '../protocol/index.ts';
import type { StreamEvent } from '../web/api-types.ts';

export type FeedEvent = Exclude<StreamEvent, { type: 'sample' }> | (Extract<StreamEvent, { type: 'sample' }> & { sample?: Sample });

export type FeedListener = (event: FeedEvent) => void;

export class LiveFeed {
  private readonly listeners = new Set<FeedListener>();

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: FeedEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get size(): number {
    return this.listeners.size;
  }
}
