// Every `remonitor` command: how it runs, its --help text, and the options that text lists (the
// option table test checks each flag parses as its help says).
import { describeOptions, type Spec } from '../shared/options.ts';
import { AGENT_USAGE, agentSpec, runAgent } from '../edge-agent/main.ts';
import { brokerSpec, hubSpec, runBroker, runHub, runUp, runWeb, upSpec, webSpec } from './commands.ts';
import { runSimulate, simulateSpec } from './simulate.ts';
import { RECORD_USAGE, recordSpec, runRecord } from './record.ts';
import { runSub, SUB_USAGE, subSpec } from './sub.ts';
import { EXPORT_USAGE, exportSpec, runExport } from './export.ts';
import { runToken, runUser, TOKEN_USAGE, tokenSpec, USER_USAGE, userSpec } from './user-commands.ts';
import { CLIENT_USAGE, clientSpec, NODE_USAGE, nodeSpec, runClient, runNode } from './credentials-commands.ts';
import type { Command } from './run-command.ts';

export const COMMANDS: Record<string, Command & { spec: Spec }> = {
  up: { run: runUp, spec: upSpec, usage: `remonitor up: broker + hub + web + an agent for this machine\n${describeOptions(upSpec)}` },
  agent: { run: runAgent, spec: agentSpec, usage: AGENT_USAGE },
  broker: { run: runBroker, spec: brokerSpec, usage: `remonitor broker: the embedded MQTT broker alone\n${describeOptions(brokerSpec)}` },
  hub: { run: runHub, spec: hubSpec, usage: `remonitor hub: ingest from a broker into SQLite, and the web server\n${describeOptions(hubSpec)}` },
  web: { run: runWeb, spec: webSpec, usage: `remonitor web: the web server over an existing data directory\n${describeOptions(webSpec)}` },
  sub: { run: runSub, spec: subSpec, usage: SUB_USAGE },
  export: { run: runExport, spec: exportSpec, usage: EXPORT_USAGE },
  simulate: {
    run: runSimulate,
    spec: simulateSpec,
    usage: `remonitor simulate: a made-up fleet publishing realistic samples\n${describeOptions(simulateSpec)}`,
  },
  record: { run: runRecord, spec: recordSpec, usage: RECORD_USAGE },
  user: { run: runUser, spec: userSpec, usage: USER_USAGE },
  token: { run: runToken, spec: tokenSpec, usage: TOKEN_USAGE },
  node: { run: runNode, spec: nodeSpec, usage: NODE_USAGE },
  client: { run: runClient, spec: clientSpec, usage: CLIENT_USAGE },
};
