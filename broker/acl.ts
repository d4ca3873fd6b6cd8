// Who may do what on the broker, as pure functions of an identity and a topic (or filter), so the
// rules are tested as tables (test/broker/acl.test.ts) and broker/access.ts only wires them in.
//   node      publishes only its own metrics (CBOR, or JSON on `json`), status, info, reply and
//             procs; subscribes only to its own cmd and ack; may leave a last will only on its own status.
//   operator  sends commands to any node and publishes sessions (`remonitor record` in CI); reads
//             anything under `remonitor/`.
//   viewer    reads anything under `remonitor/`; publishes nothing.
//   home-assistant  reads anything under `remonitor/` and `homeassistant/` (discovery, states);
//             publishes, and leaves a last will, only on `homeassistant/status` (HA's defaults).
//   hub       publishes and subscribes anything (acks, cmds, alarms, the JSON mirror, Home Assistant
//             discovery), but for topics starting with `$`.
// Nobody publishes to a `$` topic: those belong to the broker [MQTT-4.7.2-1].
import type { MqttIdentity } from '../auth/mqtt-credentials.ts';
import { AGENT_CLIENT_ID_PREFIX, parseTopic, TOPIC_ROOT, topics } from '../protocol/topics.ts';
import { haTopics, isUnderHaPrefix } from '../protocol/home-assistant-topics.ts';

const NODE_PUBLISHES = [topics.metrics, topics.json, topics.status, topics.info, topics.reply, topics.procs];
const NODE_SUBSCRIBES = [topics.cmd, topics.ack];

/** Topics starting with `$` are the server's own ($SYS); no client publishes there. */
export function isReservedTopic(topic: string): boolean {
  return topic.startsWith('$');
}

/** True for a filter whose every match lies under `remonitor/` (`remonitor/#`, `remonitor/+/metrics`). */
function isUnderRoot(filter: string): boolean {
  // The first level is literal (not `+` or `#`), so no other root and no `$` topic can match.
  return filter.startsWith(`${TOPIC_ROOT}/`);
}

/** `remonitor record` connects as `remonitor-record-<8 hex of its session>-<node>`: one id per run. */
export const RECORD_CLIENT_ID = /^remonitor-record-[0-9a-f]{8}-(.+)$/;
export const recordClientId = (sessionHex: string, node: string) => `remonitor-record-${sessionHex}-${node}`;

/**
 * A node must use its own name, `remonitor-agent-<name>` or a record id ending in its name as client
 * id (parallel CI jobs sharing a node's token each have their own). Other identities may use any id
 * but those of nodes: a CONNECT with a live session's client id takes that session over
 * [MQTT-3.1.4-2], so a viewer could otherwise knock a node offline.
 */
export function mayConnect(identity: MqttIdentity, clientId: string): boolean {
  if (identity.role === 'node') {
    return clientId === identity.name || clientId === AGENT_CLIENT_ID_PREFIX + identity.name || RECORD_CLIENT_ID.exec(clientId)?.[1] === identity.name;
  }
  return !clientId.startsWith(AGENT_CLIENT_ID_PREFIX);
}

export function mayPublish(identity: MqttIdentity, topic: string): boolean {
  if (isReservedTopic(topic)) return false;
  switch (identity.role) {
    case 'node':
      return NODE_PUBLISHES.some((build) => build(identity.name) === topic);
    case 'operator': {
      const channel = parseTopic(topic)?.channel;
      return channel === 'cmd' || channel === 'procs';
    }
    case 'viewer':
      return false;
    case 'home-assistant':
      return topic === haTopics.status;
    case 'hub':
      return true;
  }
}

/**
 * `filter` may hold wildcards: it is allowed only if every topic it can match is allowed. For a
 * node that means the exact own cmd or ack topic: `remonitor/+/cmd` or `#` would cover other nodes.
 */
export function maySubscribe(identity: MqttIdentity, filter: string): boolean {
  switch (identity.role) {
    case 'node':
      return NODE_SUBSCRIBES.some((build) => build(identity.name) === filter);
    case 'operator':
    case 'viewer':
      return isUnderRoot(filter);
    case 'home-assistant':
      return isUnderRoot(filter) || isUnderHaPrefix(filter);
    case 'hub':
      return true;
  }
}

/** A last will is published by the broker on the client's behalf, so it gets the publish rules, narrowed. */
export function mayWill(identity: MqttIdentity, willTopic: string): boolean {
  if (identity.role === 'node') return willTopic === topics.status(identity.name);
  if (identity.role === 'hub' || identity.role === 'home-assistant') return mayPublish(identity, willTopic);
  return false; // a viewer publishes nothing, and an operator's will would be a command sent at random
}

/** Said with a denial that looks like Home Assistant on the wrong credential. */
export function roleHint(identity: MqttIdentity | null, topic: string): string {
  if (!isUnderHaPrefix(topic) || identity?.role === 'hub' || identity?.role === 'home-assistant') return '';
  return '; Home Assistant needs a client made with `remonitor client add NAME --role home-assistant`';
}
