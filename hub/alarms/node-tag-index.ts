// The tags of each node as the alarm engine targets rules by them (rules.ts, ruleAppliesTo): the
// agent's, from the retained birth records it follows on the broker, and the hub's, told by
// hub/nodes/node-tags.ts when they change and loaded from the store at start. Kept in memory: a rule's
// targets are worked out once per node and tag change, never per sample.
import type { MqttClient } from 'mqtt';
import { combineTags, decodeInfo, parseTopic, topics } from '../../protocol/index.ts';
import type { Logger } from '../../shared/logger.ts';

export class NodeTagIndex {
  private readonly agent = new Map<string, readonly string[]>();
  private readonly hub = new Map<string, readonly string[]>();
  private readonly combined = new Map<string, readonly string[]>();

  /** `changed(node)` is called when the node's tags have changed. */
  constructor(private readonly changed: (node: string) => void) {}

  tagsOf(node: string): readonly string[] {
    return this.combined.get(node) ?? [];
  }

  setAgentTags(node: string, tags: readonly string[] | undefined): void {
    this.set(this.agent, node, tags ?? []);
  }

  setHubTags(node: string, tags: readonly string[]): void {
    this.set(this.hub, node, tags);
  }

  /** Both sources at once, as the store lists them (at start). */
  load(node: string, agentTags: readonly string[] | undefined, hubTags: readonly string[]): void {
    this.agent.set(node, agentTags ?? []);
    this.setHubTags(node, hubTags);
  }

  /** Follows `remonitor/+/info` on `client`; a record it cannot read keeps the tags it had. */
  follow(client: MqttClient, log: Logger): void {
    client.on('message', (topic, payload) => {
      const parsed = parseTopic(topic);
      if (parsed?.channel !== 'info' || payload.length === 0) return; // empty: a removed node's record cleared
      try {
        this.setAgentTags(parsed.node, decodeInfo(payload).tags);
      } catch (err) {
        log.debug({ node: parsed.node, err: (err as Error).message }, 'alarms: a birth record was refused');
      }
    });
    client.subscribe(topics.allNodes('info'), { qos: 1 }, (err) => {
      if (err) log.warn({ err: err.message }, "alarms could not follow the nodes' birth records: rules with tags judge the tags the store had");
    });
  }

  private set(source: Map<string, readonly string[]>, node: string, tags: readonly string[]): void {
    source.set(node, [...tags]);
    const next = combineTags(this.agent.get(node), this.hub.get(node));
    const before = this.combined.get(node) ?? [];
    if (next.length === before.length && next.every((t, i) => t === before[i])) return;
    this.combined.set(node, next);
    this.changed(node);
  }
}
