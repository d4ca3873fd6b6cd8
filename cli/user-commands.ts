// `remonitor user …` and `remonitor token …`: the people and scripts allowed into the web tier,
// kept in <data-dir>/auth.db. Passwords and tokens are printed once and stored only as hashes.
import { openAuthDb } from '../auth/auth-db.ts';
import { WEB_ROLES, WebUsers } from '../auth/web-users.ts';
import { newPassword } from '../auth/secret-hash.ts';
import { describeOptions, resolveOptions, switchOption, textOption, valueOption } from '../shared/options.ts';
import { oneOf } from '../shared/option-schemas.ts';
import { authDataDir } from './auth-data-dir.ts';
import { formatTable } from './text-table.ts';

const dataDirOption = textOption('data-dir', 'data directory of the hub (auth.db lives there)', './data');
const roleOption = valueOption({
  flag: 'role',
  help: 'viewer (read), operator (+ commands, sessions, acks) or admin',
  schema: oneOf(WEB_ROLES, 'must be viewer, operator or admin'),
});

export const userSpec = {
  dataDir: dataDirOption,
  role: roleOption,
  passwordStdin: switchOption('password-stdin', 'read the password from the first line of stdin instead of generating one'),
};
export const tokenSpec = { dataDir: dataDirOption, role: roleOption };

export const USER_USAGE = `remonitor user: people who may sign in to the dashboard
  remonitor user add NAME --role viewer|operator|admin [--password-stdin]
  remonitor user passwd NAME [--password-stdin]
  remonitor user remove NAME
  remonitor user list
Without --password-stdin a password is generated and printed once.
${describeOptions(userSpec)}`;

export const TOKEN_USAGE = `remonitor token: API tokens for scripts and Prometheus (Authorization: Bearer TOKEN)
  remonitor token add NAME --role viewer|operator|admin     (prints the token once)
  remonitor token revoke ID
  remonitor token list
${describeOptions(tokenSpec)}`;

async function readFirstLine(): Promise<string> {
  if (process.stdin.isTTY) throw new Error('--password-stdin: stdin is a terminal; pipe the password in, e.g. `printf %s "$PW" | remonitor user add …`');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > 4096) throw new Error('--password-stdin: more than 4096 bytes on stdin; expected one password');
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error('--password-stdin: stdin was empty');
  return line;
}

function oneName(positionals: string[], usage: string): string {
  const [, name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new Error(`expected one name, got ${positionals.slice(1).join(' ') || 'none'}\n\n${usage}`);
  return name;
}

/** The password piped in with --password-stdin, or a generated one. */
const chosenPassword = (fromStdin: boolean) => (fromStdin ? readFirstLine() : Promise.resolve(newPassword()));
/** A generated password is printed once: only its hash is kept. */
function showGenerated(fromStdin: boolean, password: string): void {
  if (!fromStdin) console.log(`password (shown once): ${password}`);
}

const date = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

/** Runs `work` on the data directory's people and tokens (auth.db), closed afterwards. */
async function withUsers(command: 'user' | 'token', dataDir: string, action: string, work: (users: WebUsers) => Promise<number>): Promise<number> {
  const dir = authDataDir(command, dataDir, action, command === 'user' ? 'remonitor user passwd admin' : 'remonitor token list');
  const db = openAuthDb(dir);
  try {
    return await work(new WebUsers(db));
  } finally {
    db.close();
  }
}

const USER_ACTIONS = ['add', 'passwd', 'remove', 'list'];
const TOKEN_ACTIONS = ['add', 'revoke', 'list'];

function badAction(command: string, actions: string[], action: string | undefined, usage: string): number {
  console.error(`remonitor ${command}: expected ${actions.slice(0, -1).join(', ')} or ${actions.at(-1)}, got ${JSON.stringify(action ?? '')}\n\n${usage}`);
  return 2;
}

export async function runUser(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(userSpec, argv);
  const action = positionals[0];
  if (action === undefined || !USER_ACTIONS.includes(action)) return badAction('user', USER_ACTIONS, action, USER_USAGE);
  return withUsers('user', o.dataDir, action, async (users) => {
    switch (action) {
      case 'add': {
        const name = oneName(positionals, USER_USAGE);
        if (!o.role) throw new Error(`user add ${name}: --role is required (viewer, operator or admin)`);
        const password = await chosenPassword(o.passwordStdin);
        await users.addUser(name, o.role, password);
        console.log(`added ${o.role} ${JSON.stringify(name)}`);
        showGenerated(o.passwordStdin, password);
        return 0;
      }
      case 'passwd': {
        const name = oneName(positionals, USER_USAGE);
        const password = await chosenPassword(o.passwordStdin);
        await users.setPassword(name, password);
        console.log(`new password set for ${JSON.stringify(name)}; its open sessions have ended`);
        showGenerated(o.passwordStdin, password);
        return 0;
      }
      case 'remove': {
        const name = oneName(positionals, USER_USAGE);
        users.removeUser(name);
        console.log(`removed ${JSON.stringify(name)}`);
        return 0;
      }
      case 'list': {
        const list = users.listUsers();
        console.log(list.length === 0 ? 'no users yet' : formatTable([['NAME', 'ROLE', 'CREATED'], ...list.map((u) => [u.name, u.role, date(u.created_ms)])]));
        return 0;
      }
      default:
        return badAction('user', USER_ACTIONS, action, USER_USAGE);
    }
  });
}

export async function runToken(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(tokenSpec, argv);
  const action = positionals[0];
  if (action === undefined || !TOKEN_ACTIONS.includes(action)) return badAction('token', TOKEN_ACTIONS, action, TOKEN_USAGE);
  return withUsers('token', o.dataDir, action, async (users) => {
    switch (action) {
      case 'add': {
        const name = oneName(positionals, TOKEN_USAGE);
        if (!o.role) throw new Error(`token add ${name}: --role is required (viewer, operator or admin)`);
        const { id, token } = users.addApiToken(name, o.role);
        console.log(`added ${o.role} token ${id} ${JSON.stringify(name)}`);
        console.log(`token (shown once): ${token}`);
        return 0;
      }
      case 'revoke': {
        const raw = oneName(positionals, TOKEN_USAGE);
        const id = Number(raw);
        if (!Number.isInteger(id) || id < 1)
          throw new Error(`token revoke: expected a token id (a number from \`remonitor token list\`), got ${JSON.stringify(raw)}`);
        users.revokeApiToken(id);
        console.log(`revoked token ${id}`);
        return 0;
      }
      case 'list': {
        const list = users.listApiTokens();
        const rows = list.map((t) => [String(t.id), t.name, t.role, date(t.created_ms), t.revoked_ms === null ? 'active' : `revoked ${date(t.revoked_ms)}`]);
        console.log(list.length === 0 ? 'no API tokens yet' : formatTable([['ID', 'NAME', 'ROLE', 'CREATED', 'STATE'], ...rows]));
        return 0;
      }
      default:
        return badAction('token', TOKEN_ACTIONS, action, TOKEN_USAGE);
    }
  });
}
