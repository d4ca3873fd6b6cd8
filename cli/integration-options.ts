// Options of `up` and `hub` for the tools around remonitor: JSON mirror, Home Assistant
// discovery, and the broker address the one-line join gives to new nodes.
import { brokerUrl, type OptionSpec } from '../edge-agent/options.ts';

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
    help: 'publish Home Assistant MQTT discovery for every node (turns on --json-mirror)',
    default: false,
  } as OptionSpec<boolean>,
  publicBroker: {
    type: 'string',
    flag: 'public-broker',
    help: 'broker URL new nodes are told to use in the join line (default: this hub\'s broker, as the browser reaches it)',
    parse: brokerUrl,
  } as OptionSpec<string | undefined>,
};
