// Options of `up` and `hub` for the tools around remonitor: JSON mirror, Home Assistant
// discovery, and the broker address the one-line join gives to new nodes.
import { brokerUrl, type OptionSpec } from '../shared/options.ts';
import { DEFAULT_HA_INTERVAL_MS } from '../hub/integrations/home-assistant-states.ts';
import { formatDuration, parseDuration } from '../protocol/index.ts';

const HA_INTERVAL_BOUNDS_MS = [1000, 3_600_000] as const;
function haInterval(raw: string): number | { problem: string } {
  const ms = parseDuration(raw);
  const [min, max] = HA_INTERVAL_BOUNDS_MS;
  if (ms === null) return { problem: 'must be a duration such as 10s, 30s or 5m' };
  if (ms < min || ms > max) return { problem: `must be between ${formatDuration(min)} and ${formatDuration(max)}` };
  return ms;
}

export const integrationSpec = {
  jsonMirror: {
    type: 'boolean',
    flag: 'json-mirror',
    help: 'republish each stored sample as JSON on remonitor/<node>/metrics/json',
    default: false,
  } as OptionSpec<boolean>,
  homeAssistant: {
    type: 'boolean',
    flag: 'home-assistant',
    help: 'publish Home Assistant MQTT discovery and state for every node (its client: remonitor client add NAME --role home-assistant)',
    default: false,
  } as OptionSpec<boolean>,
  homeAssistantIntervalMs: {
    type: 'string',
    flag: 'home-assistant-interval',
    help: 'Home Assistant gets new sample values at most this often; online/offline and alarm changes go at once',
    default: DEFAULT_HA_INTERVAL_MS,
    parse: haInterval,
  } as OptionSpec<number>,
  publicBroker: {
    type: 'string',
    flag: 'public-broker',
    help: "broker URL new nodes are told to use in the join line (default: this hub's broker, as the browser reaches it)",
    parse: brokerUrl,
  } as OptionSpec<string | undefined>,
};
