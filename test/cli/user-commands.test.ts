// `remonitor user …` and `remonitor token …` as an admin runs them: the built CLI (run
// `node scripts/build.mjs` first) against a data directory, checked through WebUsers on the same
// auth.db.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { CLI, cleanup, REPO, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

/** Runs the CLI to completion with `input` on stdin, in `cwd`; killed (by its PID) after 20 s. */
function remonitor(args: string[], input = '', cwd = REPO, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  cleanup(() => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function usersOf(dataDir: string): WebUsers {
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  return new WebUsers(db);
}

describe('remonitor user', () => {
  it('adds users with a generated or a piped password, changes a password, lists and removes', async () => {
    const dir = tempDir();
    const added = await remonitor(['user', 'add', 'alice', '--role', 'operator', '--data-dir', dir]);
    expect(added.code).toBe(0);
    const password = added.stdout.match(/password \(shown once\): (\S+)/)![1]!;
    expect(password).toHaveLength(16);
    expect(await usersOf(dir).checkPassword('alice', password)).toEqual({ name: 'alice', role: 'operator' });

    const piped = await remonitor(['user', 'add', 'bob', '--role', 'viewer', '--password-stdin', '--data-dir', dir], 'bobs-password-1\n');
    expect(piped.code).toBe(0);
    expect(piped.stdout).not.toContain('bobs-password-1');
    expect(await usersOf(dir).checkPassword('bob', 'bobs-password-1')).toEqual({ name: 'bob', role: 'viewer' });

    const passwd = await remonitor(['user', 'passwd', 'alice', '--password-stdin', '--data-dir', dir], 'alices-new-password');
    expect(passwd.code).toBe(0);
    expect(await usersOf(dir).checkPassword('alice', 'alices-new-password')).not.toBeNull();
    expect(await usersOf(dir).checkPassword('alice', password)).toBeNull();

    const list = await remonitor(['user', 'list', '--data-dir', dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^alice\s+operator\s+\d{4}-/m);
    expect(list.stdout).toMatch(/^bob\s+viewer\s+\d{4}-/m);
    expect(list.stdout).not.toMatch(/scrypt|password/);

    expect((await remonitor(['user', 'remove', 'bob', '--data-dir', dir])).code).toBe(0);
    expect((await remonitor(['user', 'list', '--data-dir', dir])).stdout).not.toMatch(/^bob/m);
    expect(usersOf(dir).findUser('bob')).toBeNull();
  });

  it.each([
    [['user', 'add', 'carol', '--role', 'god'], '', 2, /--role: must be viewer, operator or admin \(got "god"\)/],
    [['user', 'add', 'dave'], '', 1, /--role is required/],
    [['user', 'add', 'erin', '--role', 'viewer', '--password-stdin'], 'short\n', 1, /5 characters; use at least 10/],
    [['user', 'add', 'frank', '--role', 'viewer', '--password-stdin'], '', 1, /stdin was empty/],
    [['user', 'add', 'bad name', '--role', 'viewer'], '', 1, /user name "bad name"/],
    [['user', 'remove', 'ghost'], '', 1, /no user named "ghost"/],
    [['user', 'passwd', 'ghost'], '', 1, /no user named "ghost"/],
    [['user', 'frobnicate'], '', 2, /expected add, passwd, remove or list, got "frobnicate"/],
  ])('remonitor %j fails with a message saying why', async (args, input, code, message) => {
    const dir = tempDir();
    usersOf(dir); // a hub's data directory: auth.db exists
    const result = await remonitor([...args, '--data-dir', dir], input);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('says which data directory it used, and refuses to act on one without auth.db instead of making one', async () => {
    const hubDir = tempDir();
    const admin = await usersOf(hubDir).ensureAdmin();
    expect(admin).not.toBeNull();

    // Lost the password, and no --data-dir: ./data of wherever the command runs is not the hub's.
    const elsewhere = tempDir();
    const lost = await remonitor(['user', 'passwd', 'admin'], '', elsewhere);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`no ${join(elsewhere, 'data', 'auth.db')}`);
    expect(lost.stderr).toMatch(
      /nothing was created there\. Give the hub's data directory with --data-dir \(or REMONITOR_DATA_DIR\), e\.g\. `remonitor user passwd admin --data-dir /,
    );
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
    for (const args of [
      ['user', 'list'],
      ['user', 'remove', 'bob'],
      ['token', 'list'],
      ['token', 'revoke', '1'],
    ]) {
      const refused = await remonitor([...args, '--data-dir', join(elsewhere, 'nowhere')]);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr).toContain(`no ${join(elsewhere, 'nowhere', 'auth.db')}`);
    }
    expect(existsSync(join(elsewhere, 'nowhere'))).toBe(false);

    // With the hub's directory, by flag or by environment, it works and says where.
    const reset = await remonitor(['user', 'passwd', 'admin', '--data-dir', hubDir]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stderr).toContain(`remonitor user: data directory ${hubDir}`);
    const password = reset.stdout.match(/password \(shown once\): (\S+)/)![1]!;
    expect(await usersOf(hubDir).checkPassword('admin', password)).toEqual({ name: 'admin', role: 'admin' });
    const byEnv = await remonitor(['user', 'list'], '', elsewhere, { REMONITOR_DATA_DIR: hubDir });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toMatch(/^admin\s+admin\s/m);

    // `add` may start a data directory before the hub's first start, and says that it did.
    const fresh = join(elsewhere, 'fresh');
    const added = await remonitor(['user', 'add', 'ops', '--role', 'admin', '--data-dir', fresh]);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain(`remonitor user: new data directory (no hub has used it yet) ${fresh}`);
    expect(existsSync(join(fresh, 'auth.db'))).toBe(true);
  });

  it('refuses a second user with the same name', async () => {
    const dir = tempDir();
    expect((await remonitor(['user', 'add', 'alice', '--role', 'viewer', '--data-dir', dir])).code).toBe(0);
    const again = await remonitor(['user', 'add', 'alice', '--role', 'admin', '--data-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/a user named "alice" already exists/);
    expect(usersOf(dir).findUser('alice')?.role).toBe('viewer');
  });
});

describe('remonitor token', () => {
  it('adds a token shown once, lists it without the secret, and revokes it', async () => {
    const dir = tempDir();
    const added = await remonitor(['token', 'add', 'prometheus', '--role', 'viewer', '--data-dir', dir]);
    expect(added.code).toBe(0);
    const id = added.stdout.match(/added viewer token (\d+)/)![1]!;
    const token = added.stdout.match(/token \(shown once\): (rmt_\S+)/)![1]!;
    expect(usersOf(dir).verifyApiToken(token)).toEqual({ name: 'prometheus', role: 'viewer' });

    const list = await remonitor(['token', 'list', '--data-dir', dir]);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+prometheus\\s+viewer\\s+\\S+\\s+active$`, 'm'));
    expect(list.stdout).not.toContain(token);

    expect((await remonitor(['token', 'revoke', id, '--data-dir', dir])).code).toBe(0);
    expect(usersOf(dir).verifyApiToken(token)).toBeNull();
    expect((await remonitor(['token', 'list', '--data-dir', dir])).stdout).toMatch(/revoked \d{4}-/);

    const again = await remonitor(['token', 'revoke', id, '--data-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`no active API token with id ${id}`));
    const notNumber = await remonitor(['token', 'revoke', 'prometheus', '--data-dir', dir]);
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toMatch(/expected a token id/);
  });

  it('prints its usage with --help', async () => {
    const help = await remonitor(['token', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/remonitor token add NAME --role viewer\|operator\|admin/);
  });
});
