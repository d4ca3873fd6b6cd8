// How ingest hears the fleet and answers it: an MQTT connection to any broker
// (hub/ingest/mqtt-fleet-link.ts), or the embedded broker itself when it runs in the hub's process
// (`remonitor up`), below. In-process, a message costs the broker no encoding, no socket write and
// no PUBACK to the hub, and the hub no parsing: about 8 µs of the shared thread per message.
import type { EmbeddedBroker } from '../../broker/broker.ts';
import { topics } from '../../protocol/index.ts';

export interface FleetHandlers {
  /** Each message on the fleet's metrics (CBOR and JSON), status and info topics. */
  message(topic: string, payload: Buffer): void;
  /** Asked after each message: calls `done` once ingest takes the next (later while its store lags behind). */
  admit(done: () => void): void;
}

export interface FleetLink {
  /** Resolves once subscribed: messages flow from then on. */
  start(handlers: FleetHandlers): Promise<void>;
  /** QoS 1; nothing while disconnected (an ack is only ever superseded by a later one). */
  publish(topic: string, payload: Buffer): void;
  stop(): Promise<void>;
}

export const FLEET_CHANNELS = ['metrics', 'json', 'status', 'info'] as const;

/** The embedded broker in this process: subscribed directly, past its ACLs (it trusts its own process). */
export class LocalFleetLink implements FleetLink {
  private readonly unsubscribes: (() => Promise<void>)[] = [];

  constructor(private readonly broker: Pick<EmbeddedBroker, 'subscribeLocal' | 'publishLocal'>) {}

  async start({ message, admit }: FleetHandlers): Promise<void> {
    for (const channel of FLEET_CHANNELS) {
      const unsubscribe = await this.broker.subscribeLocal(topics.allNodes(channel), (topic, payload, done) => {
        message(topic, payload);
        admit(done);
      });
      this.unsubscribes.push(unsubscribe);
    }
  }

  publish(topic: string, payload: Buffer): void {
    this.broker.publishLocal(topic, payload);
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe();
  }
}
