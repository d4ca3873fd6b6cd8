// The live stream (GET /api/stream, server-sent events) as batches: events are queued as they
// arrive and handed over once per animation frame, so a fleet of a thousand nodes costs one DOM
// pass per frame rather than one per message.
import type { StreamEvent } from '../../shared/api-types.ts';

export type LiveState = 'connecting' | 'open' | 'closed';

export interface LiveOptions {
  /** Called at most once per frame with every event received since the last call, in order. */
  onEvents: (events: StreamEvent[]) => void;
  onState?: (state: LiveState) => void;
  /** The connection came back after a loss: events may have been missed, reload what matters. */
  onReconnect?: () => void;
  url?: string;
}

const EVENT_TYPES = ['sample', 'status'] as const;
// Hidden tabs get no animation frames; this timer still drains the queue (browsers run it ≥ 1 s apart there).
const FALLBACK_FLUSH_MS = 500;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class LiveStream {
  private source: EventSource | null = null;
  private queue: StreamEvent[] = [];
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_MIN_MS;
  private everOpened = false;
  private lost = false;
  private state: LiveState = 'closed';

  constructor(private readonly opts: LiveOptions) {}

  start(): void {
    if (this.source) return;
    this.connect();
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.cancelFlush();
    this.queue = [];
    this.setState('closed');
  }

  private connect(): void {
    this.setState('connecting');
    const source = new EventSource(this.opts.url ?? '/api/stream');
    this.source = source;
    const onMessage = (msg: MessageEvent<string>) => {
      let event: StreamEvent;
      try {
        event = JSON.parse(msg.data) as StreamEvent;
      } catch {
        return; // a malformed event is dropped, the stream goes on
      }
      if (!event || typeof event !== 'object' || typeof event.node !== 'string') return;
      this.queue.push(event);
      this.scheduleFlush();
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, onMessage);
    source.addEventListener('open', () => {
      this.retryMs = RETRY_MIN_MS;
      this.setState('open');
      if (this.everOpened && this.lost) this.opts.onReconnect?.();
      this.everOpened = true;
      this.lost = false;
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.lost = this.everOpened || this.lost;
      // CONNECTING: the browser retries by itself. CLOSED (an HTTP error, a wrong content type):
      // it gave up, so retry here with a growing delay.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.setState('closed');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.connect();
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      } else {
        this.setState('connecting');
      }
    });
  }

  private setState(state: LiveState): void {
    if (state === this.state) return;
    this.state = state;
    this.opts.onState?.(state);
  }

  private scheduleFlush(): void {
    if (this.frame || this.timer) return;
    this.frame = requestAnimationFrame(() => this.flush());
    this.timer = setTimeout(() => this.flush(), FALLBACK_FLUSH_MS);
  }

  private cancelFlush(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = null;
  }

  private flush(): void {
    this.cancelFlush();
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    try {
      this.opts.onEvents(events);
    } catch (err) {
      console.error('remonitor: live update failed', err);
    }
  }
}

/** Renders the connection state into an element with `data-state` (styled by style.css). */
export function liveIndicator(el: HTMLElement | null): (state: LiveState) => void {
  const labels: Record<LiveState, string> = { connecting: 'connecting…', open: 'live', closed: 'disconnected' };
  return (state) => {
    if (!el) return;
    el.dataset['state'] = state;
    el.textContent = labels[state];
    el.title = state === 'open' ? 'receiving live updates' : 'live updates paused; retrying';
  };
}
