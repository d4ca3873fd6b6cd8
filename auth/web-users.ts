// The people and scripts allowed into the web tier: users with scrypt-hashed passwords, API
// tokens stored as SHA-256 hashes, and the one random secret that signs session cookies (kept in
// the database so that several web processes over the same data directory accept each other's
// cookies). Tables are created here, beside whatever else lives in auth.db.
import { createHash, randomBytes } from 'node:crypto';
import type { AuthDb } from './auth-db.ts';
import { hashPassword, hashToken, newPassword, newToken, passwordMatches } from './secret-hash.ts';

export const WEB_ROLES = ['viewer', 'operator', 'admin'] as const;
export type WebRole = (typeof WEB_ROLES)[number];

export interface WebIdentity {
  name: string;
  role: WebRole;
}
/** A user as a session is checked against; `stamp` changes whenever the password does. */
export interface WebUserRecord extends WebIdentity {
  stamp: string;
}
export interface WebUserInfo extends WebIdentity {
  created_ms: number;
}
export interface ApiTokenInfo extends WebIdentity {
  id: number;
  created_ms: number;
  revoked_ms: number | null;
}

/** Shortest password `addUser`/`setPassword` accept; generated ones are 16 characters. */
export const MIN_PASSWORD_LENGTH = 10;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const SECRET_BYTES = 32;

export function webRoleProblem(role: unknown): string | null {
  return (WEB_ROLES as readonly unknown[]).includes(role) ? null : `role ${JSON.stringify(role)} is not one of ${WEB_ROLES.join(', ')}`;
}
function checkName(what: string, name: string): void {
  if (!NAME_RE.test(name)) throw new TypeError(`${what} name ${JSON.stringify(name)}: use 1–64 letters, digits, . _ @ -, starting with a letter or digit`);
}
function checkRole(role: string): asserts role is WebRole {
  const problem = webRoleProblem(role);
  if (problem) throw new TypeError(problem);
}
function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new TypeError(`the password has ${password.length} characters; use at least ${MIN_PASSWORD_LENGTH}`);
}

export class WebUsers {
  /** A hash to check unknown names against, so that they cost as much time as known ones. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS web_users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS web_api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        token_hash TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
      );
      CREATE TABLE IF NOT EXISTS web_session_secret (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL
      );
    `);
  }

  async addUser(name: string, role: WebRole, password: string): Promise<void> {
    checkName('user', name);
    checkRole(role);
    checkPasswordStrength(password);
    const hash = await hashPassword(password);
    const added = this.db
      .prepare('INSERT OR IGNORE INTO web_users (name, role, password_hash, created_ms) VALUES (?, ?, ?, ?)')
      .run(name, role, hash, this.now());
    if (added.changes === 0) throw new Error(`a user named ${JSON.stringify(name)} already exists`);
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPasswordStrength(password);
    const hash = await hashPassword(password);
    const changed = this.db.prepare('UPDATE web_users SET password_hash = ? WHERE name = ?').run(hash, name);
    if (changed.changes === 0) throw new Error(`no user named ${JSON.stringify(name)}`);
  }

  removeUser(name: string): void {
    const removed = this.db.prepare('DELETE FROM web_users WHERE name = ?').run(name);
    if (removed.changes === 0) throw new Error(`no user named ${JSON.stringify(name)}`);
  }

  listUsers(): WebUserInfo[] {
    return this.db.prepare('SELECT name, role, created_ms FROM web_users ORDER BY name').all() as WebUserInfo[];
  }

  /**
   * The user as stored now. Session cookies are checked against it, so removing a user, lowering a
   * role or changing a password ends the sessions already open.
   */
  findUser(name: string): WebUserRecord | null {
    const row = this.db.prepare('SELECT name, role, password_hash FROM web_users WHERE name = ?').get(name) as
      | (WebIdentity & { password_hash: string })
      | undefined;
    if (!row) return null;
    // A digest of the salted hash: it tells password versions apart and reveals nothing about them.
    const stamp = createHash('sha256').update(row.password_hash).digest('base64url').slice(0, 16);
    return { name: row.name, role: row.role, stamp };
  }

  async checkPassword(name: string, password: string): Promise<WebIdentity | null> {
    const row = this.db.prepare('SELECT name, role, password_hash FROM web_users WHERE name = ?').get(name) as
      | (WebIdentity & { password_hash: string })
      | undefined;
    if (!row) {
      this.dummyHash ??= hashPassword(newPassword());
      await passwordMatches(password, await this.dummyHash);
      return null;
    }
    return (await passwordMatches(password, row.password_hash)) ? { name: row.name, role: row.role } : null;
  }

  /** A new API token; only its hash is stored, so this is the one time it can be shown. */
  addApiToken(name: string, role: WebRole): { id: number; token: string } {
    checkName('token', name);
    checkRole(role);
    const token = newToken();
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO web_api_tokens (name, role, token_hash, created_ms) VALUES (?, ?, ?, ?)')
      .run(name, role, hashToken(token), this.now());
    return { id: Number(lastInsertRowid), token };
  }

  revokeApiToken(id: number): void {
    const revoked = this.db.prepare('UPDATE web_api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(this.now(), id);
    if (revoked.changes === 0) throw new Error(`no active API token with id ${JSON.stringify(id)}`);
  }

  listApiTokens(): ApiTokenInfo[] {
    return this.db.prepare('SELECT id, name, role, created_ms, revoked_ms FROM web_api_tokens ORDER BY id').all() as ApiTokenInfo[];
  }

  // Looked up by its SHA-256: the hash of a 256-bit random token reveals nothing to time.
  verifyApiToken(token: string): WebIdentity | null {
    if (!token.startsWith('rmt_') || token.length > 200) return null;
    const row = this.db.prepare('SELECT name, role FROM web_api_tokens WHERE token_hash = ? AND revoked_ms IS NULL').get(hashToken(token)) as
      | WebIdentity
      | undefined;
    return row ?? null;
  }

  /**
   * On first start, with nobody able to log in yet: user `admin` with a generated password that
   * the caller prints once. Null when any user exists.
   */
  async ensureAdmin(): Promise<{ name: 'admin'; password: string } | null> {
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM web_users').get() as { n: number }).n;
    if (count > 0) return null;
    const password = newPassword();
    const hash = await hashPassword(password);
    // Another process may have raced us to it; then its admin stands and we print nothing.
    const added = this.db
      .prepare("INSERT INTO web_users (name, role, password_hash, created_ms) SELECT 'admin', 'admin', ?, ? WHERE NOT EXISTS (SELECT 1 FROM web_users)")
      .run(hash, this.now());
    return added.changes === 1 ? { name: 'admin', password } : null;
  }

  /** The key that signs session cookies: made once, shared by every process on this database. */
  sessionSecret(): Buffer {
    this.db.prepare('INSERT OR IGNORE INTO web_session_secret (id, secret) VALUES (1, ?)').run(randomBytes(SECRET_BYTES));
    return (this.db.prepare('SELECT secret FROM web_session_secret WHERE id = 1').get() as { secret: Buffer }).secret;
  }
}
