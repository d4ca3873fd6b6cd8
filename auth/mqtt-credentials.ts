// Who may connect to the broker: one row per MQTT identity (an edge node, or a viewer, operator,
// hub or Home Assistant service) with the SHA-256 of its token. The token itself is shown once,
// when made, and never stored. A revoked row is kept (with the time) so the broker can find and
// disconnect live sessions.
import { nodeNameProblem } from '../protocol/topics.ts';
import type { AuthDb } from './auth-db.ts';
import { hashToken, newToken, tokenMatches } from './secret-hash.ts';

export type MqttRole = 'node' | 'viewer' | 'operator' | 'hub' | 'home-assistant';
export const MQTT_ROLES: readonly MqttRole[] = ['node', 'viewer', 'operator', 'hub', 'home-assistant'];

export interface MqttIdentity {
  name: string;
  role: MqttRole;
}

export interface MqttClientRecord {
  name: string;
  role: MqttRole;
  createdMs: number;
  /** When it was revoked (ms since epoch), or null while it may connect. */
  revokedMs: number | null;
}

interface Row {
  name: string;
  role: MqttRole;
  token_hash: string;
  created_ms: number;
  revoked_ms: number | null;
}

const ROLE_LIST = MQTT_ROLES.map((role) => `'${role}'`).join(', ');
const table = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  name       TEXT PRIMARY KEY,
  role       TEXT NOT NULL CHECK (role IN (${ROLE_LIST})),
  token_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);`;
const INDEX = 'CREATE INDEX IF NOT EXISTS mqtt_clients_revoked ON mqtt_clients (revoked_ms) WHERE revoked_ms IS NOT NULL;';
const SCHEMA = `${table('mqtt_clients')}\n${INDEX}`;

/**
 * An auth.db made before a role was added holds a CHECK that refuses it, and SQLite cannot alter a
 * CHECK: the table is rebuilt with every row kept, once, by whichever process opens it first.
 */
function allowEveryRole(db: AuthDb): void {
  const current = db.prepare<[], string>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'mqtt_clients'").pluck();
  const upToDate = () => MQTT_ROLES.every((role) => current.get()?.includes(`'${role}'`));
  if (upToDate()) return;
  db.transaction(() => {
    if (upToDate()) return; // another process rebuilt it meanwhile
    db.exec(`${table('mqtt_clients_rebuilt')}
      INSERT INTO mqtt_clients_rebuilt (name, role, token_hash, created_ms, revoked_ms)
        SELECT name, role, token_hash, created_ms, revoked_ms FROM mqtt_clients;
      DROP TABLE mqtt_clients;
      ALTER TABLE mqtt_clients_rebuilt RENAME TO mqtt_clients;
      ${INDEX}`);
  }).immediate();
}

/** Throws a TypeError naming the bad value unless `role` is one of MQTT_ROLES. */
export function assertMqttRole(role: unknown): asserts role is MqttRole {
  if (!MQTT_ROLES.includes(role as MqttRole)) throw new TypeError(`MQTT role must be one of ${MQTT_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
}

function assertName(name: unknown): asserts name is string {
  // Nodes and services share one namespace (the MQTT username), with the node-name alphabet: it
  // holds no `/`, `+` or `#`, so a name can never change the shape of a topic built from it.
  const problem = nodeNameProblem(name);
  if (problem) throw new TypeError(`MQTT identity name: ${problem}`);
}

export class MqttCredentials {
  private readonly byName;
  private readonly insert;
  private readonly revokeStmt;
  private readonly listStmt;
  private readonly revokedSinceStmt;

  constructor(
    private readonly db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
    allowEveryRole(db);
    this.byName = db.prepare<[string], Row>('SELECT * FROM mqtt_clients WHERE name = ?');
    this.insert = db.prepare<[string, string, string, number]>(
      `INSERT INTO mqtt_clients (name, role, token_hash, created_ms, revoked_ms) VALUES (?, ?, ?, ?, NULL)
       ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash,
         created_ms = excluded.created_ms, revoked_ms = NULL`,
    );
    this.revokeStmt = db.prepare<[number, string]>('UPDATE mqtt_clients SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL');
    this.listStmt = db.prepare<[], Row>('SELECT * FROM mqtt_clients ORDER BY name');
    this.revokedSinceStmt = db.prepare<[number], { name: string; revoked_ms: number }>(
      'SELECT name, revoked_ms FROM mqtt_clients WHERE revoked_ms IS NOT NULL AND revoked_ms >= ?',
    );
  }

  /** Enrols a new identity and returns its token (shown once); throws if `name` is already enrolled. */
  add(name: string, role: MqttRole): string {
    assertName(name);
    assertMqttRole(role);
    return this.db.transaction(() => {
      const existing = this.byName.get(name);
      if (existing && existing.revoked_ms === null) {
        throw new Error(`"${name}" is already enrolled (role ${existing.role}); revoke it first to give it a new token`);
      }
      return this.store(name, role);
    })();
  }

  /** Creates or rotates: a fresh token for `name` whatever its state (`remonitor up` at each start). */
  issue(name: string, role: MqttRole): string {
    assertName(name);
    assertMqttRole(role);
    return this.store(name, role);
  }

  /** False if `name` was unknown or already revoked. */
  revoke(name: string): boolean {
    return this.revokeStmt.run(this.now(), name).changes > 0;
  }

  list(): MqttClientRecord[] {
    return this.listStmt.all().map((r) => ({ name: r.name, role: r.role, createdMs: r.created_ms, revokedMs: r.revoked_ms }));
  }

  /** The identity for a CONNECT's username and password; null if unknown, revoked or wrong. */
  verify(username: string | undefined, password: string | Buffer | undefined): MqttIdentity | null {
    if (!username || password === undefined) return null;
    const row = this.byName.get(username);
    const token = typeof password === 'string' ? password : password.toString('utf8');
    // Hash even for an unknown name, so timing does not tell which names exist.
    const matches = tokenMatches(token, row?.token_hash ?? ''.padEnd(64, '0'));
    if (!row || row.revoked_ms !== null || !matches) return null;
    return { name: row.name, role: row.role };
  }

  /** True if `name` is an enrolled node (revoked or not): other identities may not take its client id. */
  isNode(name: string): boolean {
    return this.byName.get(name)?.role === 'node';
  }

  /** Identities revoked at or after `sinceMs`, with when; the broker disconnects their live sessions. */
  revokedSince(sinceMs: number): { name: string; revokedMs: number }[] {
    return this.revokedSinceStmt.all(sinceMs).map((r) => ({ name: r.name, revokedMs: r.revoked_ms }));
  }

  private store(name: string, role: MqttRole): string {
    const token = newToken();
    this.insert.run(name, role, hashToken(token), this.now());
    return token;
  }
}
