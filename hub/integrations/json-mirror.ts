// The JSON mirror (`--json-mirror`): every stored sample republished as plain JSON on
// `remonitor/<node>/metrics/json`, for clients that cannot decode CBOR (Node-RED, shell scripts).
// Fed by the live feed, so only samples that passed validation go out. Home Assistant reads its own
// rate-limited state instead (home-assistant-states.ts): a state a second floods its recorder.
import type { MqttClient } from 'mqtt';
import { topics, type Sample } from '../../protocol/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { LiveFeed } from '../live-feed.ts';
import { toPoint } from '../storage/sample-point.ts';
import type { SamplePoint } from '../../shared/api-types.ts';

/**
 * The mirrored payload: the decoded sample (wire field names, same units), plus the flat totals
 * the dashboard charts (the registry's metrics derived from the sample's lists: the fullest
 * filesystem, all interfaces' traffic) and the node name.
 */
export type MirrorPayload = { node: string } & Partial<Sample> & SamplePoint;

export function mirrorPayload(node: string, sample: Sample | undefined, point: SamplePoint): MirrorPayload {
  return { node, ...(sample ?? {}), ...(sample ? toPoint(sample) : point) };
}

export class JsonMirror {
  private unsubscribe: (() => void) | null = null;
  private failures = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly feed: LiveFeed,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.feed.subscribe((event) => {
      if (event.type !== 'sample') return;
      const payload = JSON.stringify(mirrorPayload(event.node, event.sample, event.point));
      // QoS 0 and not retained: a live view, like the CBOR topic it mirrors. Fail soft: an offline
      // broker drops mirror messages, never samples.
      this.client.publish(topics.metricsJson(event.node), payload, { qos: 0 }, (err) => {
        if (err && this.failures++ % 1000 === 0) this.log.warn({ err: err.message }, 'json mirror could not publish (logged every 1000 failures)');
      });
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
