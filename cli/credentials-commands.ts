// `remonitor node add|revoke|remove|list` and `remonitor client add|revoke|list`: the MQTT identities
// in <data-dir>/auth.db. A token is printed once, when made; only its hash is stored. `node remove`
// also asks the hub, through auth.db, to take the node out of the fleet (hub/nodes/node-removal.ts).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AUTH_DB_FILE, openAuthDb, type AuthDb } from '../auth/auth-db.ts';
import { NodeRemovals } from '../auth/node-removals.ts';
import { EnrolmentTags } from '../auth/enrolment-tags.ts';
import { tagList } from '../edge-agent/main.ts';
import { nodeNameProblem } from '../protocol/index.ts';
import { openDatabase } from '../shared/sqlite-open.ts';
import { DB_FILE } from './hub-service.ts';
import { MQTT_ROLES, MqttCredentials, type MqttClientRecord, type MqttRole } from '../auth/mqtt-credentials.ts';
import { describeOptions, resolveOptions, switchOption, textOption, valueOption } from '../shared/options.ts';
import { oneOf, port } from '../shared/option-schemas.ts';
import { authDataDir } from './auth-data-dir.ts';
import { formatTable } from './text-table.ts';

type ServiceRole = Exclude<MqttRole, 'node'>;
const SERVICE_ROLES = MQTT_ROLES.filter((role): role is ServiceRole => role !== 'node');

const dataDirOption = textOption('data-dir', 'data directory of the hub (holds auth.db)', './data');

export const nodeSpec = {
  dataDir: dataDirOption,
  // Not --host: under `remonitor up` REMONITOR_HOST is the bind address, often 0.0.0.0, which no node can dial.
  hubHost: textOption('hub-host', 'address nodes reach the hub at, for the printed commands', hostname()),
  mqttPort: valueOption({ flag: 'mqtt-port', help: 'MQTT port nodes connect to, for the printed commands', default: 1883, schema: port }),
  httpPort: valueOption({ flag: 'http-port', help: 'dashboard port serving install.sh, for the printed commands', default: 8080, schema: port }),
  tags: valueOption({
    flag: 'tags',
    help: "with add: its tags, comma-separated lowercase words (ci,room:kitchen); the hub adds them to its agent's own",
    default: [],
    schema: tagList,
  }),
  purge: switchOption('purge', 'with remove: delete its stored data too (else kept, readable by export)'),
};

export const clientSpec = {
  dataDir: dataDirOption,
  role: valueOption({ flag: 'role', help: `what the client may do: ${SERVICE_ROLES.join(', ')} (with add)`, schema: oneOf(SERVICE_ROLES) }),
};

export const NODE_USAGE = `remonitor node add NAME [--tags a,b] | revoke NAME | remove NAME [--purge] | list: the edge nodes allowed to publish
  add NAME      enrol a node; prints its token once, and the agent command line to run on it
  revoke NAME   revoke its token; a connected agent is disconnected within a few seconds
  remove NAME   revoke its token and take it out of the fleet: its alarms cleared, its data kept
                unless --purge; a running hub applies it within a few seconds, a stopped one at its start
  list          the enrolled nodes
${describeOptions(nodeSpec)}`;

export const CLIENT_USAGE = `remonitor client add NAME --role ${SERVICE_ROLES.join('|')} | revoke NAME | list: other MQTT clients
  viewer reads remonitor/…; operator also sends commands; hub publishes and reads anything;
  home-assistant reads remonitor/… and homeassistant/…, and publishes homeassistant/status
${describeOptions(clientSpec)}`;

/** Bad input: a message for the user and exit code 2. */
class UsageError extends Error {}

export async function runNode(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(nodeSpec, argv);
  return withCredentials('node', o.dataDir, positionals, (credentials, action, name, db) => {
    if (o.purge && action !== 'remove') throw new UsageError('--purge goes with remove only');
    if (o.tags.length && action !== 'add') throw new UsageError('--tags goes with add only');
    if (action === 'list')
      return printList(
        credentials.list().filter((r) => r.role === 'node'),
        'nodes',
      );
    if (action === 'remove') return removeNode(credentials, db, o.dataDir, name, o.purge);
    if (action === 'add') {
      const token = credentials.add(name, 'node');
      // The hub takes them into its store at its start, or within a few seconds while it runs (hub/nodes/node-tags.ts).
      if (o.tags.length) new EnrolmentTags(db).request(name, { tags: o.tags });
      console.log(`enrolled node "${name}"${o.tags.length ? ` with tags ${o.tags.join(', ')}` : ''}. Its token, shown only now:\n\n  ${token}\n`);
      console.log(
        `run the agent on the node with:\n\n  remonitor agent --broker mqtt://${o.hubHost}:${o.mqttPort} --node ${name} --username ${name} --password ${token}\n`,
      );
      console.log(
        `or install it as a service there:\n\n  curl -fsSL http://${o.hubHost}:${o.httpPort}/install.sh | sh -s -- --node ${name} --token ${token}\n`,
      );
      return 0;
    }
    revoke(credentials, name, 'node');
    console.log(`revoked node "${name}"; if it is connected, the broker disconnects it within a few seconds`);
    return 0;
  });
}

export async function runClient(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(clientSpec, argv);
  return withCredentials('client', o.dataDir, positionals, (credentials, action, name) => {
    if (action === 'remove') throw new UsageError('remove is for nodes; use revoke');
    if (action === 'list')
      return printList(
        credentials.list().filter((r) => r.role !== 'node'),
        'clients',
      );
    if (action === 'add') {
      if (!o.role) throw new UsageError(`add needs --role, one of ${SERVICE_ROLES.join(', ')}`);
      const token = credentials.add(name, o.role);
      console.log(`enrolled ${o.role} "${name}". Its token, shown only now:\n\n  ${token}\n`);
      console.log(`connect with MQTT user name "${name}" and this token as the password, e.g. --username ${name} --password ${token}`);
      return 0;
    }
    revoke(credentials, name, 'client');
    console.log(`revoked client "${name}"; if it is connected, the broker disconnects it within a few seconds`);
    return 0;
  });
}

type Action = 'add' | 'revoke' | 'remove' | 'list';

function withCredentials(
  command: 'node' | 'client',
  dataDir: string,
  positionals: string[],
  run: (credentials: MqttCredentials, action: Action, name: string, db: AuthDb) => number,
): number {
  const [action, name, ...extra] = positionals;
  const usage = `usage: remonitor ${command} add NAME${command === 'client' ? ` --role ${SERVICE_ROLES.join('|')}` : ''} | revoke NAME${command === 'node' ? ' | remove NAME [--purge]' : ''} | list`;
  const fail = (message: string): number => {
    console.error(`remonitor ${command}: ${message}\n${usage}`);
    return 2;
  };
  if (action !== 'add' && action !== 'revoke' && action !== 'remove' && action !== 'list')
    return fail(action === undefined ? 'no action given' : `unknown action "${action}"`);
  if (action === 'list' && name !== undefined) return fail(`list takes no name, got "${name}"`);
  if (action !== 'list' && name === undefined) return fail(`${action} needs a NAME`);
  if (extra.length > 0) return fail(`unexpected arguments: ${extra.join(' ')}`);
  const db = openAuthDb(authDataDir(command, dataDir, action, `remonitor ${command} list`));
  try {
    return run(new MqttCredentials(db), action, name ?? '', db);
  } catch (err) {
    // A bad name, a name already enrolled, or one that is not there: the user's input, not a crash.
    if (err instanceof UsageError || err instanceof TypeError || /already enrolled/.test((err as Error).message)) return fail((err as Error).message);
    throw err;
  } finally {
    db.close();
  }
}

function revoke(credentials: MqttCredentials, name: string, kind: 'node' | 'client'): void {
  const record = credentials.list().find((r) => r.name === name);
  if (!record) throw new UsageError(`no ${kind} named "${name}" is enrolled`);
  const isNode = record.role === 'node';
  if (isNode !== (kind === 'node')) throw new UsageError(`"${name}" is a ${record.role}; use remonitor ${isNode ? 'node' : 'client'} revoke`);
  if (record.revokedMs !== null) throw new UsageError(`"${name}" was already revoked at ${new Date(record.revokedMs).toISOString()}`);
  credentials.revoke(name);
}

/**
 * Revokes the node's token at once (the broker reads auth.db itself) and leaves the hub a request
 * for the rest. A node that is neither enrolled nor in the hub's SQLite file is refused: a typo.
 */
function removeNode(credentials: MqttCredentials, db: AuthDb, dataDir: string, name: string, purge: boolean): number {
  const problem = nodeNameProblem(name);
  if (problem) throw new UsageError(`node name: ${problem}`);
  const record = credentials.list().find((r) => r.name === name);
  if (record && record.role !== 'node') throw new UsageError(`"${name}" is a ${record.role}, not a node; use remonitor client revoke`);
  const metricsDb = join(dataDir, DB_FILE);
  if (!record && !hasReported(metricsDb, name)) {
    throw new UsageError(
      `no node named "${name}" is enrolled in ${join(dataDir, AUTH_DB_FILE)} or has reported to ${metricsDb} (remonitor node list shows the enrolled ones)`,
    );
  }
  if (record?.revokedMs === null) credentials.revoke(name);
  new NodeRemovals(db).request(name, { purge });
  console.log(
    `removed node "${name}"${purge ? ', its data to be purged' : ', its data kept (remonitor export still reads it)'}: its token is revoked, ` +
      'and a running hub takes it out of the fleet and clears its alarms within a few seconds (a stopped hub at its next start)',
  );
  return 0;
}

/** True when the hub's SQLite file holds the node (a hub on PostgreSQL keeps it there, out of reach here). */
function hasReported(path: string, name: string): boolean {
  if (!existsSync(path)) return false;
  const db = openDatabase(path, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM nodes WHERE name = ?').get(name) !== undefined;
  } finally {
    db.close();
  }
}

function printList(records: MqttClientRecord[], what: string): number {
  if (records.length === 0) {
    console.log(`no ${what} enrolled`);
    return 0;
  }
  const rows: string[][] = records.map((r) => [
    r.name,
    r.role,
    new Date(r.createdMs).toISOString(),
    r.revokedMs === null ? 'active' : `revoked ${new Date(r.revokedMs).toISOString()}`,
  ]);
  console.log(formatTable([['name', 'role', 'enrolled', 'state'], ...rows]));
  return 0;
}
