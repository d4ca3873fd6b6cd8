// The state Home Assistant's entities read: JSON on `remonitor/<node>/ha/state`, retained (HA gets
// the last one the moment it subscribes, after its own restart too). Sample values go out at most
// once per interval (30 s by default): HA's recorder keeps every state it is sent, and a sample a
// second on a dozen sensors is some 30 million rows a month per node. What a person acts on goes
// out at once: the node going online or offline, and its worst alarm level changing (read from the
// alarm engine's retained `remonitor/<node>/alarms`, so it works whichever hub runs the engine).
import type { MqttClient } from 'mqtt';
import type { NodeStatus } from '../../protocol/index.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AlarmLevel } from '../../shared/alarm-types.ts';
import type { SamplePoint } from '../../shared/api-types.ts';
import type { AnyMetricsStore } from '../storage/async-store.ts';
import { haState, worstAlarmLevel } from './home-assistant.ts';
import type { FeedEvent, LiveFeed } from '../live-feed.ts';

export const DEFAULT_HA_INTERVAL_MS = 30_000;

interface NodeView {
  status: NodeStatus | null;
  alarm: AlarmLevel | null;
  point: SamplePoint | null;
  /** A newer sample than the last state sent: goes out at the next tick. */
  pending: boolean;
}

export class HomeAssistantStates {
  private readonly nodes = new Map<string, NodeView>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private failures = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly store: AnyMetricsStore,
    private readonly feed: LiveFeed,
    private readonly log: Logger,
    private readonly intervalMs = DEFAULT_HA_INTERVAL_MS,
  ) {}

  /**
   * Sends every known node's state at once, then samples at the interval. Alarm sets heard before
   * (the retained ones, when subscribed first) go out with it rather than as "unknown" first.
   */
  async start(): Promise<void> {
    for (const n of await this.store.listNodes()) {
      const view = this.view(n.name);
      view.status = n.status === 'unknown' ? null : n.status;
      view.point = n.latest;
    }
    this.unsubscribe = this.feed.subscribe((event) => this.onFeed(event));
    this.started = true;
    this.publishAll();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** The node's alarm set as the alarm engine published it (payload of `remonitor/<node>/alarms`). */
  onAlarms(node: string, payload: Buffer): void {
    const alarm = worstAlarmLevel(payload);
    const view = this.view(node);
    if (alarm === view.alarm) return;
    view.alarm = alarm;
    if (this.started) this.publish(node, view);
  }

  /** Every node's state, now (HA's birth message). */
  publishAll(): void {
    for (const [node, view] of this.nodes) this.publish(node, view);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private onFeed(event: FeedEvent): void {
    const view = this.view(event.node);
    if (event.type === 'status') {
      if (event.status === view.status) return;
      view.status = event.status;
      this.publish(event.node, view);
      return;
    }
    // A sample sent again from a node's spool after an outage is older than what HA already shows.
    if (view.point && event.point.ts_ms < view.point.ts_ms) return;
    view.point = event.point;
    view.pending = true;
  }

  private tick(): void {
    for (const [node, view] of this.nodes) if (view.pending) this.publish(node, view);
  }

  private view(node: string): NodeView {
    let view = this.nodes.get(node);
    if (!view) this.nodes.set(node, (view = { status: null, alarm: null, point: null, pending: false }));
    return view;
  }

  private publish(node: string, view: NodeView): void {
    view.pending = false;
    const payload = JSON.stringify(haState(node, view.status, view.alarm, view.point));
    // QoS 0: the next state replaces a lost one. Fail soft: an offline broker drops states, never samples.
    this.client.publish(haTopics.state(node), payload, { qos: 0, retain: true }, (err) => {
      if (err && this.failures++ % 1000 === 0) this.log.warn({ err: err.message }, 'could not publish a home assistant state (logged every 1000 failures)');
    });
  }
}
