// Topic map of the wire contract: every topic string in the project is built or parsed here.

export const TOPIC_ROOT = 'remonitor';

/** The last level of a node topic, `remonitor/<node>/<channel>`. */
export const CHANNELS = ['metrics', 'json', 'status', 'info', 'cmd', 'reply', 'procs', 'ack', 'alarms'] as const;
export type Channel = (typeof CHANNELS)[number];

const NODE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Returns null for a valid node name, otherwise a sentence saying what is wrong with it. */
export function nodeNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `node name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'node name is empty';
  if (name.length > 64) return `node name "${name.slice(0, 20)}…" is ${name.length} characters long, the limit is 64`;
  if (!NODE_NAME.test(name)) {
    const bad = [...name].find((ch) => !/[A-Za-z0-9._-]/.test(ch));
    return `node name "${name}" contains ${JSON.stringify(bad)}; allowed are A-Z a-z 0-9 . _ -`;
  }
  return null;
}

/** Throws a TypeError naming the problem unless `name` is a valid node name. */
export function assertNodeName(name: unknown): asserts name is string {
  const problem = nodeNameProblem(name);
  if (problem) throw new TypeError(problem);
}

export function nodeTopic(node: string, channel: Channel): string {
  assertNodeName(node);
  return `${TOPIC_ROOT}/${node}/${channel}`;
}

export const topics = {
  metrics: (node: string) => nodeTopic(node, 'metrics'),
  /** A sample as JSON with the wire table's field names, for devices without CBOR (PROTOCOL.md, "JSON samples"). */
  json: (node: string) => nodeTopic(node, 'json'),
  status: (node: string) => nodeTopic(node, 'status'),
  info: (node: string) => nodeTopic(node, 'info'),
  cmd: (node: string) => nodeTopic(node, 'cmd'),
  reply: (node: string) => nodeTopic(node, 'reply'),
  procs: (node: string) => nodeTopic(node, 'procs'),
  ack: (node: string) => nodeTopic(node, 'ack'),
  alarms: (node: string) => nodeTopic(node, 'alarms'),
  /** Optional JSON mirror of each stored sample, published by the hub (`--json-mirror`); parseTopic ignores it. */
  metricsJson: (node: string) => `${nodeTopic(node, 'metrics')}/json`,
  /** Wildcard subscription for one channel of every node, e.g. `remonitor/+/metrics`. */
  allNodes: (channel: Channel) => `${TOPIC_ROOT}/+/${channel}`,
} as const;

export interface ParsedTopic {
  node: string;
  channel: Channel;
}

/** Splits `remonitor/<node>/<channel>`; null for anything else (other roots, bad names, extra levels). */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== TOPIC_ROOT) return null;
  const [, node, channel] = parts as [string, string, string];
  if (nodeNameProblem(node) !== null) return null;
  if (!(CHANNELS as readonly string[]).includes(channel)) return null;
  return { node, channel: channel as Channel };
}

/** Payload of the retained `status` topic: plain UTF-8 text. `offline` is also the agent's last will. */
export type NodeStatus = 'online' | 'offline';

export function parseStatus(payload: Uint8Array): NodeStatus | null {
  const text = Buffer.from(payload).toString('utf8').trim();
  return text === 'online' || text === 'offline' ? text : null;
}

/**
 * The client id prefix of remonitor's agent: `remonitor-agent-<node>`. A broker with credentials
 * lets a node connect under its own name or this id, and nobody else take either [MQTT-3.1.4-2].
 */
export const AGENT_CLIENT_ID_PREFIX = 'remonitor-agent-';

export const agentClientId = (node: string) => AGENT_CLIENT_ID_PREFIX + node;
