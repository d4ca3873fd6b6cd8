// `remonitor <command>`: one bin, one dispatcher; fatal errors end here, with context.
import { describeOptions, OptionsError } from '../edge-agent/options.ts';
import { AGENT_USAGE, runAgent } from '../edge-agent/main.ts';
import { AGENT_VERSION } from '../edge-agent/version.ts';
import { brokerSpec, hubSpec, runBroker, runHub, runUp, runWeb, upSpec, webSpec } from './commands.ts';
import { runSimulate, simulateSpec } from './simulate.ts';
import { RECORD_USAGE, runRecord } from './record.ts';
import { runSub, SUB_USAGE } from './sub.ts';
import { EXPORT_USAGE, runExport } from './export.ts';
import { runToken, runUser, TOKEN_USAGE, USER_USAGE } from './user-commands.ts';
import { CLIENT_USAGE, NODE_USAGE, runClient, runNode } from './credentials-commands.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  up: { run: runUp, usage: `remonitor up: broker + hub + web + an agent for this machine\n${describeOptions(upSpec)}` },
  agent: { run: runAgent, usage: AGENT_USAGE },
  broker: { run: runBroker, usage: `remonitor broker: the embedded MQTT broker alone\n${describeOptions(brokerSpec)}` },
  hub: { run: runHub, usage: `remonitor hub: ingest from a broker into SQLite, and the web server\n${describeOptions(hubSpec)}` },
  web: { run: runWeb, usage: `remonitor web: the web server over an existing data directory\n${describeOptions(webSpec)}` },
  sub: { run: runSub, usage: SUB_USAGE },
  export: { run: runExport, usage: EXPORT_USAGE },
  simulate: { run: runSimulate, usage: `remonitor simulate: a made-up fleet publishing realistic samples\n${describeOptions(simulateSpec)}` },
  record: { run: runRecord, usage: RECORD_USAGE },
  user: { run: runUser, usage: USER_USAGE },
  token: { run: runToken, usage: TOKEN_USAGE },
  node: { run: runNode, usage: NODE_USAGE },
  client: { run: runClient, usage: CLIENT_USAGE },
};

const HELP = `remonitor ${AGENT_VERSION}: fleet telemetry for Raspberry Pis, IoT nodes and CI runners

usage: remonitor <command> [options]     (remonitor <command> --help for its options)

commands:
  up       broker + hub + web + an agent for this machine, on embedded defaults
  agent    sample this machine and publish to a broker
  broker   the embedded MQTT broker alone (TCP and WebSocket)
  hub      ingest from any MQTT broker into SQLite, with the web server
  record   run a command and record its memory; --fail-on-leak for CI
  web      the web server over an existing data directory
  sub      print the live MQTT stream decoded, as JSON lines
  export   raw samples of a node and time range as CSV or JSON, with progress
  simulate a made-up fleet of N nodes publishing realistic samples (load tests, demos)
  user     people who may sign in to the dashboard: add, passwd, remove, list
  token    API tokens for scripts and Prometheus: add, revoke, list
  node     edge nodes allowed on the broker, with their MQTT tokens: add, revoke, list
  client   other MQTT clients (viewer, operator, hub): add --role, revoke, list

Every option can also come from a REMONITOR_<OPTION> environment variable or from a JSON
file named by --config.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(AGENT_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`remonitor: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  // Only the command's own options: `record -- COMMAND --help` passes --help on to COMMAND.
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`remonitor ${name}: ${err.message}`);
      return 2;
    }
    console.error(`remonitor ${name}: ${(err as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// A command that failed may leave connections open (a pool, a reconnecting client) that would keep
// the process alive for seconds: a failure ends it now. Success ends when its work is done.
if (code !== 0) process.exit(code);
