// `remonitor <command>`: one bin, one dispatcher; fatal errors end here, with context.
import { AGENT_VERSION } from '../shared/version.ts';
import { COMMANDS } from './command-table.ts';
import { runCommand } from './run-command.ts';

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
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`remonitor: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  return runCommand(name, command, rest);
}

const code = await main(process.argv.slice(2));
// A command that failed may leave connections open (a pool, a reconnecting client) that would keep
// the process alive for seconds: a failure ends it now. Success ends when its work is done.
if (code !== 0) process.exit(code);
