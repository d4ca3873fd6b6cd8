// WebUsers over a real auth.db in a temp directory, and the login limiter's bounds.
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { LoginLimiter } from '../../web/auth/login-limiter.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

function open(dir = tempDir()): WebUsers {
  const db = openAuthDb(dir);
  cleanup(() => {
    db.close();
  });
  return new WebUsers(db);
}

describe('WebUsers', () => {
  it('creates admin only on an empty table, once, with a password that works', async () => {
    const dir = tempDir();
    const users = open(dir);
    const first = await users.ensureAdmin();
    expect(first?.name).toBe('admin');
    expect(await users.checkPassword('admin', first!.password)).toEqual({ name: 'admin', role: 'admin' });
    expect(await users.ensureAdmin()).toBeNull();
    expect(await open(dir).ensureAdmin()).toBeNull(); // a second process over the same database
  });

  it('does not create admin when someone else exists', async () => {
    const users = open();
    await users.addUser('olga', 'operator', 'long-enough-1');
    expect(await users.ensureAdmin()).toBeNull();
    expect(users.listUsers().map((u) => u.name)).toEqual(['olga']);
  });

  it('keeps one session secret for every process over the same database', () => {
    const dir = tempDir();
    const a = open(dir).sessionSecret();
    const b = open(dir).sessionSecret();
    expect(a.length).toBe(32);
    expect(b.equals(a)).toBe(true);
    expect(open().sessionSecret().equals(a)).toBe(false);
  });

  it('stores passwords as scrypt hashes and tokens as SHA-256, never in clear', async () => {
    const dir = tempDir();
    const users = open(dir);
    await users.addUser('olga', 'operator', 'long-enough-1');
    const { token } = users.addApiToken('ci', 'operator');
    const db = openAuthDb(dir);
    cleanup(() => {
      db.close();
    });
    const dump = JSON.stringify([db.prepare('SELECT * FROM web_users').all(), db.prepare('SELECT * FROM web_api_tokens').all()]);
    expect(dump).not.toContain('long-enough-1');
    expect(dump).not.toContain(token);
    expect(dump).toMatch(/scrypt\$32768\$8\$1\$/);
  });

  it('checks an unknown name by a full scrypt too (time ratio printed)', async () => {
    const users = open();
    await users.addUser('olga', 'operator', 'long-enough-1');
    await users.checkPassword('nobody', 'x'); // makes the dummy hash once
    const time = async (name: string) => {
      const t = performance.now();
      for (let i = 0; i < 3; i++) await users.checkPassword(name, 'wrong-password');
      return (performance.now() - t) / 3;
    };
    const known = await time('olga');
    const unknown = await time('nobody');
    console.log(`checkPassword: known user ${known.toFixed(0)} ms, unknown ${unknown.toFixed(0)} ms, ratio ${(unknown / known).toFixed(2)}`);
    // The same work, not a short cut (which would take well under 1 % of a scrypt); 0.2 leaves room for a busy machine.
    expect(unknown / known).toBeGreaterThan(0.2);
  });
});

describe('LoginLimiter', () => {
  it('keeps at most maxKeys counters, dropping expired ones first, then the oldest', () => {
    let now = 0;
    const limiter = new LoginLimiter({ maxFailures: 2, windowMs: 1000, maxKeys: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) limiter.recordFailure([`ip:${i}`]);
    expect(limiter.size).toBeLessThanOrEqual(100);
    limiter.recordFailure(['user:a', 'user:a']);
    expect(limiter.retryAfterS(['user:a'])).toBe(1);
    now += 1000;
    expect(limiter.retryAfterS(['user:a'])).toBe(0);
  });

  it('refuses nonsense settings at setup', () => {
    expect(() => new LoginLimiter({ maxFailures: 0 })).toThrow(/maxFailures must be a positive integer, got 0/);
  });
});
