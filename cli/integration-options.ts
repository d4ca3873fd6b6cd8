// Options of `up` and `hub` for the tools around remonitor: JSON mirror, Home Assistant
// discovery, and the broker address the one-line join gives to new nodes.
import { switchOption, valueOption } from '../shared/options.ts';
import { brokerUrl, durationBetween } from '../shared/option-schemas.ts';
import { DEFAULT_HA_INTERVAL_MS } from '../hub/integrations/home-assistant-states.ts';

export const integrationSpec = {
  jsonMirror: switchOption('json-mirror', 'republish each stored sample as JSON on remonitor/<node>/metrics/json'),
  homeAssistant: switchOption(
    'home-assistant',
    'publish Home Assistant MQTT discovery and state for every node (its client: remonitor client add NAME --role home-assistant)',
  ),
  homeAssistantIntervalMs: valueOption({
    flag: 'home-assistant-interval',
    help: 'Home Assistant gets new sample values at most this often; online/offline and alarm changes go at once',
    default: DEFAULT_HA_INTERVAL_MS,
    schema: durationBetween('10s, 30s or 5m', 1000, 3_600_000),
  }),
  publicBroker: valueOption({
    flag: 'public-broker',
    help: "broker URL new nodes are told to use in the join line (default: this hub's broker, as the browser reaches it)",
    schema: brokerUrl,
  }),
};
