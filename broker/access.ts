// Where authentication and ACLs plug into Aedes: the one place the broker decides who may do what.
// The rules themselves are pure (broker/acl.ts); this file wires them to Aedes' hooks, remembers
// who each connection is, and logs denials without letting a flood fill the log.
//
// Without credentials (a broker on loopback only, see EmbeddedBroker) every client is allowed but
// for publishing to `$` topics, the broker's own [MQTT-4.7.2-1].
//
// What a denial looks like to the client, in Aedes 1.x:
// - CONNECT: CONNACK 4 (bad user name or password) for an unknown, revoked or wrong token and for
//   no credentials at all; CONNACK 5 (not authorized) for a client id or a will the identity may
//   not use. Then Aedes closes the connection [MQTT-3.2.2-5], and broker.ts charges the refusal to
//   the address (per-IP limiter).
// - PUBLISH: MQTT 3.1.1 has no negative ack; a server must either ack as if accepted or close the
//   connection [MQTT-3.3.5-2]. Aedes does the latter whenever authorizePublish returns an error
//   (docs/Aedes.md; issue moscajs/aedes#210), and there is no hook to ack-and-drop: the hook runs
//   before the PUBACK and before routing, so the message reaches no subscriber and is not
//   retained, no PUBACK is sent, and the client is disconnected. A well-behaved client never hits
//   this; a misbehaving one reconnects and costs itself a fresh CONNECT each time.
// - SUBSCRIBE: the SUBACK carries 0x80 (failure) for that filter [MQTT-3.9.3]; the connection stays.
// - Will: checked at CONNECT (above), and again when Aedes publishes it (dropped if denied).
import type { AedesOptions, AuthenticateError, AuthErrorCode, Client } from 'aedes';
import type { MqttCredentials, MqttIdentity } from '../auth/mqtt-credentials.ts';
import type { Logger } from '../shared/logger.ts';
import { isReservedTopic, mayConnect, mayPublish, maySubscribe, mayWill, roleHint } from './acl.ts';
import { DenialLog } from './denial-log.ts';

export type DeniedAction = 'connect' | 'publish' | 'subscribe' | 'will' | 'retain';

export interface Denial {
  action: DeniedAction;
  clientId: string;
  /** Null when the CONNECT did not authenticate. */
  identity: MqttIdentity | null;
  /** Topic or filter, when the denial is about one. */
  topic?: string;
  reason: string;
}

export interface AccessOptions {
  /** Null: open broker (loopback only); otherwise every client authenticates with a token. */
  credentials: MqttCredentials | null;
  log: Logger;
  /** Told of every denial, before the log's rate limit (stats, tests). */
  onDenied?: (denial: Denial) => void;
  /** Most retained topics kept; see BrokerLimits.maxRetained. Unlimited when absent. */
  maxRetained?: number;
  /** Remote address of a client, to key the log's rate limit and to say where a denial came from. */
  addressOf?: (client: Client) => string | undefined;
  now?: () => number;
}

interface Session {
  identity: MqttIdentity;
  /** When it authenticated (ms since epoch): a revocation after this ends it. */
  sinceMs: number;
}

export type AccessHooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

export interface AccessControl {
  hooks: AccessHooks;
  /** The identity a connected client authenticated as (undefined for an open broker). */
  identityOf(client: Client): MqttIdentity | undefined;
  /** Closes the live sessions of identities revoked at or after `sinceMs`; returns how many. */
  endRevokedSessions(sinceMs: number): number;
  /** Retained topics currently counted against maxRetained. */
  readonly retainedCount: number;
}

const refusal = (returnCode: 3 | 4 | 5, message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: returnCode as AuthErrorCode });

export function accessHooks(options: AccessOptions): AccessControl {
  const { credentials, log } = options;
  const now = options.now ?? Date.now;
  const maxRetained = options.maxRetained ?? Number.POSITIVE_INFINITY;
  const sessions = new WeakMap<Client, Session>();
  /** Live sessions by identity name, to end them on revocation. */
  const live = new Map<string, Set<Client>>();
  /** Will topic of each CONNECT, seen in preConnect, checked in authenticate. */
  const willTopics = new WeakMap<Client, string>();
  /** Topics holding a retained message, as far as publishes through these hooks tell. */
  const retained = new Set<string>();
  const denialLog = new DenialLog();

  function deny(client: Client | null, denial: Omit<Denial, 'clientId' | 'identity'>, identity: MqttIdentity | null): void {
    const full: Denial = { ...denial, clientId: client?.id ?? '', identity };
    options.onDenied?.(full);
    const address = client ? options.addressOf?.(client) : undefined;
    const key = identity?.name ?? address ?? full.clientId;
    const verdict = denialLog.verdict(key, now());
    const fields = {
      client: full.clientId,
      identity: identity ? `${identity.role}:${identity.name}` : null,
      address,
      topic: denial.topic,
      reason: denial.reason,
    };
    if (verdict === 'quiet') log.debug(fields, `MQTT ${denial.action} denied`);
    else
      log.warn(
        fields,
        verdict === 'log' ? `MQTT ${denial.action} denied` : `MQTT ${denial.action} denied; further denials for ${key} this minute are logged at debug`,
      );
  }

  /** Retained publishes past the cap on a new topic lose their retain flag: delivered live, not stored. */
  function countRetained(client: Client | null, packet: { topic: string; retain?: boolean; payload: Buffer | string }, identity: MqttIdentity | null): void {
    if (!packet.retain) return;
    if (packet.payload.length === 0) {
      retained.delete(packet.topic); // an empty retained payload clears the topic [MQTT-3.3.1-10]
      return;
    }
    if (retained.has(packet.topic)) return;
    if (retained.size >= maxRetained) {
      // Stripping the flag rather than refusing: refusing closes the connection (see top), and an
      // honest hub re-publishing discovery would loop on reconnects; this way only the store is spared.
      packet.retain = false;
      deny(client, { action: 'retain', topic: packet.topic, reason: `${maxRetained} retained topics already; delivered but not retained` }, identity);
      return;
    }
    retained.add(packet.topic);
  }

  const hooks: AccessHooks = {
    preConnect: (client, packet, done) => {
      if (packet.will) willTopics.set(client, packet.will.topic);
      done(null, true);
    },

    authenticate: (client, username, password, done) => {
      if (!credentials) return done(null, true);
      let identity: MqttIdentity | null;
      try {
        identity = credentials.verify(username, password);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'credentials database unreadable; refusing CONNECT');
        return done(refusal(3, 'credentials unavailable'), false);
      }
      if (!identity) {
        const reason = username ? `unknown, revoked or wrong token for "${username}"` : 'no username or password';
        deny(client, { action: 'connect', reason }, null);
        return done(refusal(4, 'bad user name or password'), false);
      }
      if (!mayConnect(identity, client.id) || (identity.role !== 'node' && credentials.isNode(client.id))) {
        deny(client, { action: 'connect', reason: `client id "${client.id}" is not allowed for ${identity.role} "${identity.name}"` }, identity);
        return done(refusal(5, 'not authorized'), false);
      }
      const willTopic = willTopics.get(client);
      if (willTopic !== undefined && !mayWill(identity, willTopic)) {
        deny(
          client,
          { action: 'will', topic: willTopic, reason: `last will on a topic this identity may not publish${roleHint(identity, willTopic)}` },
          identity,
        );
        return done(refusal(5, 'not authorized'), false);
      }
      sessions.set(client, { identity, sinceMs: now() });
      let clients = live.get(identity.name);
      if (!clients) live.set(identity.name, (clients = new Set()));
      clients.add(client);
      const name = identity.name;
      client.conn.once('close', () => {
        const set = live.get(name);
        set?.delete(client);
        if (set?.size === 0) live.delete(name);
      });
      done(null, true);
    },

    authorizePublish: (client, packet, done) => {
      const identity = client ? (sessions.get(client)?.identity ?? null) : null;
      if (isReservedTopic(packet.topic)) {
        deny(client, { action: 'publish', topic: packet.topic, reason: '$ topics belong to the broker' }, identity);
        return done(new Error(`publishing to ${packet.topic} is not allowed`));
      }
      // A null client is a stored will of a client long gone (Aedes' will sweep): checked at its CONNECT.
      if (credentials && client) {
        if (!identity) {
          deny(client, { action: 'publish', topic: packet.topic, reason: 'not authenticated' }, null);
          return done(new Error('not authenticated'));
        }
        if (!mayPublish(identity, packet.topic)) {
          deny(
            client,
            {
              action: 'publish',
              topic: packet.topic,
              reason: `${identity.role} may not publish here; message dropped, client disconnected${roleHint(identity, packet.topic)}`,
            },
            identity,
          );
          return done(new Error(`${identity.role} "${identity.name}" may not publish to ${packet.topic}`));
        }
      }
      countRetained(client, packet, identity);
      done(null);
    },

    authorizeSubscribe: (client, subscription, done) => {
      if (!credentials) return done(null, subscription);
      const identity = sessions.get(client)?.identity ?? null;
      if (!identity || !maySubscribe(identity, subscription.topic)) {
        deny(
          client,
          {
            action: 'subscribe',
            topic: subscription.topic,
            reason: identity ? `${identity.role} may not subscribe to this filter${roleHint(identity, subscription.topic)}` : 'not authenticated',
          },
          identity,
        );
        return done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
      }
      done(null, subscription);
    },
  };

  return {
    hooks,
    identityOf: (client) => sessions.get(client)?.identity,
    endRevokedSessions(sinceMs) {
      if (!credentials || live.size === 0) return 0;
      let ended = 0;
      for (const { name, revokedMs } of credentials.revokedSince(sinceMs)) {
        for (const client of live.get(name) ?? []) {
          const session = sessions.get(client);
          if (!session || session.sinceMs > revokedMs) continue; // authenticated again after the revocation
          log.warn({ client: client.id, identity: `${session.identity.role}:${name}` }, 'credential revoked; disconnecting its session');
          client.close();
          ended++;
        }
      }
      return ended;
    },
    get retainedCount() {
      return retained.size;
    },
  };
}
