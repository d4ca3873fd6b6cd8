// Home Assistant (`--home-assistant`): one retained device-based discovery message per node at
// `homeassistant/device/<id>/config`, so every node appears in Home Assistant as a device with its
// sensors and no YAML, reading the state on `remonitor/<node>/ha/state` (home-assistant-states.ts
// publishes it; integrations.ts sends both again when HA says it has started). The metric sensors
// are available while the node's retained `remonitor/<node>/status` says `online`; connectivity
// and alarm level are always available, so that offline is their state, not "unavailable".
// Format: https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload
// (`dev`, `o` and `cmps` are required; each component needs `p` and `unique_id`).
import type { MqttClient } from 'mqtt';
import { METRIC_SPECS, topics, type NodeInfo, type NodeStatus } from '../../protocol/index.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import type { Logger } from '../../shared/logger.ts';
import { AGENT_VERSION } from '../../shared/version.ts';
import type { AlarmLevel } from '../../shared/alarm-types.ts';
import type { SamplePoint, SeriesMetric } from '../../shared/api-types.ts';
import type { LiveFeed } from '../live-feed.ts';
import type { AnyMetricsStore } from '../storage/async-store.ts';

/** The sensors offered per node, when the node reports the metric: the registry's metrics that name one. */
const SENSORS = METRIC_SPECS.flatMap((m) => (m.homeAssistant ? [{ metric: m.name as SeriesMetric, ...m.homeAssistant }] : []));
const SENSOR_METRICS = SENSORS.map((s) => s.metric);

/** HA object ids allow [a-zA-Z0-9_-]; node names may also hold dots. */
export const haObjectId = (node: string) => `remonitor_${node.replace(/[^A-Za-z0-9_-]/g, '_')}`;

export const discoveryTopic = (node: string) => haTopics.deviceConfig(haObjectId(node));

/** Alarm levels from best to worst, as the dashboard ranks them. */
export const ALARM_LEVELS: readonly AlarmLevel[] = ['ok', 'amber', 'offline', 'red'];

/** What HA's entities read, JSON on `remonitor/<node>/ha/state`; null reads as "unknown" in HA. */
export type HaState = {
  node: string;
  /** Null until the node's retained status has been seen. */
  status: NodeStatus | null;
  /** The worst level among the node's alarms; null until the hub's alarm engine has published its set. */
  alarm: AlarmLevel | null;
  /** When the values were sampled, ms; null before the first sample. */
  ts_ms: number | null;
} & Partial<Record<SeriesMetric, number | null>>;

/**
 * The worst level in a retained `remonitor/<node>/alarms` payload (PROTOCOL.md, "Alarms"): `ok`
 * when no alarm is set, null for an empty (cleared) or unreadable one.
 */
export function worstAlarmLevel(payload: Buffer): AlarmLevel | null {
  let message: unknown;
  try {
    message = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const alarms = (message as { alarms?: unknown } | null)?.alarms;
  if (!Array.isArray(alarms)) return null;
  let worst = 0;
  for (const alarm of alarms) worst = Math.max(worst, ALARM_LEVELS.indexOf((alarm as { state?: AlarmLevel } | null)?.state ?? 'ok'));
  return ALARM_LEVELS[worst]!;
}

/** Every sensor's field, null when the node does not report it (HA's template renders "None": unknown). */
export function haState(node: string, status: NodeStatus | null, alarm: AlarmLevel | null, point: SamplePoint | null): HaState {
  const state: HaState = { node, status, alarm, ts_ms: point?.ts_ms ?? null };
  for (const metric of SENSOR_METRICS) state[metric] = point?.[metric] ?? null;
  return state;
}

/** The whole-device discovery payload for one node; `latest` picks which sensors it has. */
export function discoveryPayload(node: string, info: NodeInfo | null, latest: SamplePoint | null): Record<string, unknown> {
  const id = haObjectId(node);
  const cmps: Record<string, Record<string, unknown>> = {
    [`${id}_connectivity`]: {
      p: 'binary_sensor',
      name: 'Connectivity',
      unique_id: `${id}_connectivity`,
      device_class: 'connectivity',
      value_template: '{{ value_json.status }}',
      payload_on: 'online',
      payload_off: 'offline',
    },
    [`${id}_alarm`]: {
      p: 'sensor',
      name: 'Alarm',
      unique_id: `${id}_alarm`,
      device_class: 'enum',
      options: ALARM_LEVELS,
      value_template: '{{ value_json.alarm }}',
      icon: 'mdi:alarm-light',
    },
  };
  const available = { availability_topic: topics.status(node), payload_available: 'online', payload_not_available: 'offline' };
  for (const { metric, ...spec } of SENSORS) {
    // Before the first sample every sensor is offered; after it, only those the node reports
    // (a Pi without swap gets no swap sensor that would stay "unknown" forever).
    if (latest && latest[metric] === undefined) continue;
    cmps[`${id}_${metric}`] = {
      p: 'sensor',
      name: spec.name,
      unique_id: `${id}_${metric}`,
      value_template: `{{ value_json.${metric} }}`,
      state_class: 'measurement',
      ...(spec.unit ? { unit_of_measurement: spec.unit } : {}),
      ...(spec.deviceClass ? { device_class: spec.deviceClass } : {}),
      ...(spec.icon ? { icon: spec.icon } : {}),
      ...available,
    };
  }
  return {
    dev: {
      ids: [id],
      name: node,
      mf: 'remonitor',
      mdl: info?.cpu_model || 'remonitor node',
      ...(info?.agent_version ? { sw: info.agent_version } : {}),
      ...(info?.arch ? { hw: info.arch } : {}),
    },
    o: { name: 'remonitor', sw: AGENT_VERSION },
    cmps,
    state_topic: haTopics.state(node),
    qos: 0,
  };
}

/** Publishes discovery for every known node at start and for each new node as it first reports. */
export class HomeAssistantDiscovery {
  private readonly announced = new Map<string, { withInfo: boolean; withSample: boolean; atMs: number }>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly client: MqttClient,
    private readonly store: AnyMetricsStore,
    private readonly feed: LiveFeed,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    await this.announceAll();
    this.unsubscribe = this.feed.subscribe((event) => {
      if (event.type !== 'sample' && event.type !== 'status') return;
      const seen = this.announced.get(event.node);
      // Announced again when its first sample shows which sensors it has, and (at most every 30 s)
      // while its birth record is missing, so that its device card gets model and version.
      const firstSample = event.type === 'sample' && seen !== undefined && !seen.withSample;
      if (seen && !firstSample && (seen.withInfo || this.now() - seen.atMs < 30_000)) return;
      // Held at once, so that the node's next events wait for this announcement rather than repeat it.
      this.announced.set(event.node, {
        withInfo: seen?.withInfo ?? false,
        withSample: event.type === 'sample' || (seen?.withSample ?? false),
        atMs: this.now(),
      });
      this.announceFromStore(event.node, event.type === 'sample' ? event.point : null).catch((err: Error) => {
        this.announced.delete(event.node);
        this.log.warn({ node: event.node, err: err.message }, 'could not read the store for home assistant discovery');
      });
    });
  }

  /** Announces every node the store knows again, as HA asks for with its birth message. */
  async announceAll(): Promise<void> {
    for (const n of await this.store.listNodes()) await this.announce(n.name, n.info, n.latest);
  }

  /** Announces a node with its birth record (and its latest sample when `latest` is null) from the store. */
  private async announceFromStore(node: string, latest: SamplePoint | null): Promise<void> {
    const summary = (await this.store.listNodes()).find((n) => n.name === node);
    await this.announce(node, summary?.info ?? null, latest ?? summary?.latest ?? null);
  }

  private async announce(node: string, info: NodeInfo | null, latest: SamplePoint | null): Promise<void> {
    this.announced.set(node, { withInfo: info !== null, withSample: latest !== null, atMs: this.now() });
    try {
      await this.client.publishAsync(discoveryTopic(node), JSON.stringify(discoveryPayload(node, info, latest)), { qos: 1, retain: true });
      this.log.debug({ node }, 'home assistant discovery published');
    } catch (err) {
      this.announced.delete(node); // try again on its next sample
      this.log.warn({ node, err: (err as Error).message }, 'could not publish home assistant discovery');
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
