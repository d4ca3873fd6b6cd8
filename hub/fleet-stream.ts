// Every node's samples and statuses, for the hub that coordinates a group (alarms, process
// history): its ingest gets only its share of the stream, so this is a plain subscription of its
// own. QoS 0: a sample lost here costs an alarm window one point, never a stored sample.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../edge-agent/logger.ts';
import { decodeSample, parseStatus, parseTopic, topics } from '../protocol/index.ts';
import { connectHubClient, firstConnect, type HubMqttOptions } from './hub-mqtt.ts';
import { sampleEvent, type LiveFeed } from './live-feed.ts';
import { toPoint } from './sample-point.ts';

export class FleetStream {
  private client: MqttClient | null = null;

  constructor(private readonly options: HubMqttOptions & { feed: LiveFeed; log: Logger }) {}

  async start(): Promise<void> {
    const { brokerUrl, feed, log } = this.options;
    const client = connectHubClient('coordinator', this.options);
    this.client = client;
    client.on('error', (err) => log.warn({ err: err.message }, 'coordinator mqtt error'));
    client.on('connect', () => {
      client
        .subscribeAsync({ [topics.allNodes('metrics')]: { qos: 0 }, [topics.allNodes('status')]: { qos: 0 } })
        .catch((err: Error) => log.error({ err: err.message }, 'the coordinator could not subscribe to the fleet'));
    });
    client.on('message', (topic, payload) => {
      const parsed = parseTopic(topic);
      if (!parsed) return;
      try {
        if (parsed.channel === 'metrics') {
          const sample = decodeSample(payload);
          feed.publish(sampleEvent(parsed.node, sample, toPoint(sample)));
        } else if (parsed.channel === 'status') {
          const status = parseStatus(payload);
          if (status) feed.publish({ type: 'status', node: parsed.node, status });
        }
      } catch {
        // Malformed: ingest, which stores the stream, counts and logs it.
      }
    });
    await firstConnect(client, 'coordinator', brokerUrl);
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }
}
