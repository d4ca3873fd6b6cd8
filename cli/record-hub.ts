// The hub side of `remonitor record --broker`: publishes each watch sample on
// remonitor/<node>/procs (QoS 1), so that the hub records the session beside the fleet. Recording
// never waits on it: a broker that is down, refuses the credentials or goes away costs a warning and
// the hub's copy of the session, never the verdict, the reports or the exit code.
import mqtt, { type MqttClient } from 'mqtt';
import { recordClientId } from '../broker/acl.ts';
import { encodeProcs, type ProcsSample } from '../protocol/procs.ts';
import { topics } from '../protocol/topics.ts';

/** Unacked samples kept for a broker that is away (about 17 min at 500 ms); later ones are dropped. */
const MAX_PENDING = 2000;
/** How long the end waits for the broker to ack what was sent. */
const FLUSH_MS = 10_000;

// CONNACK refusals, MQTT 3.1.1 return codes and their MQTT 5 reason codes: retrying cannot help.
const BAD_CREDENTIALS = new Set([4, 134]);
const NOT_AUTHORIZED = new Set([5, 135]);

export interface HubReportOptions {
  broker: string;
  node: string;
  /** The session id's random part (`record-<hex>`); the client id carries it too. */
  sessionHex: string;
  username: string | undefined;
  password: string | undefined;
  ca: Buffer | undefined;
  /** Prints one line to the person (stderr). */
  say: (line: string) => void;
}

/** What became of the session's samples, for the summary and the JSON report. */
export interface HubReportOutcome {
  broker: string;
  node: string;
  client_id: string;
  samples: number;
  /** Acknowledged by the broker (QoS 1), hence delivered to the hub's subscription. */
  acked: number;
  /** Why not every sample got there, or null. */
  problem: string | null;
}

export class HubReport {
  readonly clientId: string;
  private readonly client: MqttClient;
  private samples = 0;
  private acked = 0;
  private pending = 0;
  private everConnected = false;
  private refused: string | null = null;
  private unreachable: string | null = null;
  private dropped = 0;
  private onSettled: (() => void) | null = null;

  constructor(private readonly o: HubReportOptions) {
    this.clientId = recordClientId(o.sessionHex, o.node);
    this.client = mqtt.connect(o.broker, {
      protocolVersion: 4,
      clean: true,
      clientId: this.clientId,
      username: o.username,
      password: o.password,
      ca: o.ca,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.client.on('connect', () => {
      if (this.unreachable) o.say(`reached the broker at ${o.broker}; sending the session`);
      this.everConnected = true;
      this.unreachable = null;
    });
    this.client.on('error', (err: Error & { code?: string | number }) => this.onError(err));
    this.client.on('offline', () => {
      if (this.everConnected && !this.unreachable && !this.refused) {
        this.unreachable = 'connection lost';
        o.say(`WARNING: lost the broker at ${o.broker}; recording goes on, and the session is sent if it comes back`);
      }
    });
  }

  private onError(err: Error & { code?: string | number }): void {
    const code = err.code;
    if (typeof code === 'number' && (BAD_CREDENTIALS.has(code) || NOT_AUTHORIZED.has(code))) {
      if (this.refused) return;
      this.refused = `${err.message}: ${this.refusalHint(BAD_CREDENTIALS.has(code))}`;
      this.o.say(`WARNING: the broker at ${this.o.broker} refused this client (${this.refused}). The session is recorded here only.`);
      this.client.end(true);
      this.settle();
      return;
    }
    if (this.unreachable) return; // said once; the client keeps retrying
    this.unreachable = typeof code === 'string' ? `${code}, ${err.message}` : err.message;
    this.o.say(
      `WARNING: cannot reach the broker at ${this.o.broker} (${this.unreachable}); recording goes on, and the session is sent if the broker comes back`,
    );
  }

  private refusalHint(badCredentials: boolean): string {
    const { username, node } = this.o;
    if (badCredentials) {
      return username === undefined
        ? 'the broker needs credentials: pass --username and --password (or REMONITOR_USERNAME and REMONITOR_PASSWORD), e.g. a node enrolled on the hub with `remonitor node add ci`'
        : `check --username ${username} and its token in --password (REMONITOR_PASSWORD): unknown, revoked or wrong`;
    }
    return username !== undefined && username !== node
      ? `a node token records only under its own name: use --node ${username}, or an operator client (remonitor client add NAME --role operator)`
      : `user ${JSON.stringify(username ?? '')} may not publish sessions: use a node token (remonitor node add ${node}) or an operator client`;
  }

  /** Sends one sample; never blocks the recording. */
  publish(sample: ProcsSample): void {
    this.samples++;
    if (this.refused) return;
    if (this.pending >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending++;
    this.client.publish(topics.procs(this.o.node), Buffer.from(encodeProcs(sample)), { qos: 1 }, (err) => {
      this.pending--;
      if (!err) this.acked++;
      if (this.pending === 0) this.settle();
    });
  }

  private settle(): void {
    this.onSettled?.();
  }

  /**
   * Waits (at most FLUSH_MS) for the broker to ack what was sent, when it was reached at all, then
   * closes the connection. A broker never reached is not waited for.
   */
  async finish(): Promise<HubReportOutcome> {
    if (this.pending > 0 && this.everConnected && !this.refused) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_MS);
        this.onSettled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Forced: a graceful end waits for acks forever when the broker is away.
    await this.client.endAsync(true);
    const problem =
      this.refused ??
      (this.acked === this.samples
        ? null
        : !this.everConnected
          ? `never reached the broker (${this.unreachable ?? 'no answer'})`
          : this.dropped > 0
            ? `${this.dropped} samples dropped while the broker was away`
            : `the broker did not acknowledge ${this.samples - this.acked} samples within ${FLUSH_MS / 1000} s`);
    return { broker: this.o.broker, node: this.o.node, client_id: this.clientId, samples: this.samples, acked: this.acked, problem };
  }
}
