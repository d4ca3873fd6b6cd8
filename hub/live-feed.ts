// Live events from ingest to whoever listens (the SSE route): a tiny typed publish/subscribe.
import type { StreamEvent } from '../web/api-types.ts';

export type FeedListener = (event: StreamEvent) => void;

export class LiveFeed {
  private readonly listeners = new Set<FeedListener>();

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: StreamEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get size(): number {
    return this.listeners.size;
  }
}
