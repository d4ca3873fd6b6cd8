// Home Assistant's topics, which the hub publishes to and the broker's `home-assistant` role is
// cut to: its discovery prefix (HA's default, `homeassistant`), its own birth and last-will topic,
// and the rate-limited state the hub publishes for it under each node.
// https://www.home-assistant.io/integrations/mqtt/#discovery-options
import { assertNodeName, TOPIC_ROOT } from './topics.ts';

export const HA_DISCOVERY_PREFIX = 'homeassistant';

export const haTopics = {
  /** HA's birth (`online`) and last will (`offline`), both on this topic by default. */
  status: `${HA_DISCOVERY_PREFIX}/status`,
  /** One device's discovery config; `objectId` holds only [A-Za-z0-9_-]. */
  deviceConfig: (objectId: string) => `${HA_DISCOVERY_PREFIX}/device/${objectId}/config`,
  /** The node's state for HA (JSON), at the hub's `--home-assistant-interval` and at once on a change that matters. */
  state: (node: string) => {
    assertNodeName(node);
    return `${TOPIC_ROOT}/${node}/ha/state`;
  },
} as const;

/** True for a topic or filter whose every match lies under the discovery prefix. */
export function isUnderHaPrefix(filter: string): boolean {
  return filter.startsWith(`${HA_DISCOVERY_PREFIX}/`);
}
