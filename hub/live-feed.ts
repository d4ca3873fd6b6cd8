// Live events from ingest to whoever listens in the hub (the SSE route, alarms…): a tiny typed
// publish/subscribe. Stored samples come with the whole decoded sample for in-process listeners;
// the SSE route sends browsers only the StreamEvent part.
import type { Sample } from '../protocol/index.ts';
import { PROCESS_COUNT_METRIC, type SamplePoint, type StreamEvent } from '../shared/api-types.ts';

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

/** The feed's event for a sample: its point, the whole sample, and its process lists (with the process count) when it has them. */
export function sampleEvent(node: string, sample: Sample, point: SamplePoint): FeedEvent {
  return {
    type: 'sample',
    node,
    point,
    sample,
    ...(sample.top_cpu
      ? { processes: { top_cpu: sample.top_cpu, top_mem: sample.top_mem ?? [], [PROCESS_COUNT_METRIC]: sample[PROCESS_COUNT_METRIC] ?? null } }
      : {}),
  };
}
