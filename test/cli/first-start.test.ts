// `remonitor up` on a new data directory, as a person meets it: a first start that fails (the
// dashboard port is taken, the README's first troubleshooting case) must not use up the one
// printing of the admin password, and `--no-agent` (the Dockerfile's command) starts no agent.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { defaultNodeName } from '../../edge-agent/main.ts';
import { CLI, cleanup, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const DASHBOARD = /dashboard at (http:\/\/\S+)/;

function up(dataDir: string, ...flags: string[]) {
  return spawnProcess(process.execPath, [CLI, 'up', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--interval', '1s', ...flags]);
}

/** Who is in auth.db now: people, and the MQTT identities issued. */
function authState(dataDir: string): { users: string[]; mqtt: string[] } {
  const db = openAuthDb(dataDir);
  try {
    return { users: new WebUsers(db).listUsers().map((u) => u.name), mqtt: new MqttCredentials(db).list().map((c) => `${c.role}:${c.name}`) };
  } finally {
    db.close();
  }
}

async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('remonitor up, first start', () => {
  it('prints the admin password at the first start that listens, after one that failed', async () => {
    const dataDir = tempDir();
    const failed = up(dataDir, '--no-agent', '--http-port', String(await takenPort()));
    const { code } = await failed.exited;
    expect(code, failed.output()).not.toBe(0);
    expect(failed.output()).toMatch(/EADDRINUSE/);
    expect(failed.output()).not.toMatch(/password/);
    expect(authState(dataDir).users).toEqual([]); // no admin whose password nobody saw

    const second = up(dataDir, '--no-agent', '--http-port', '0');
    const [, dashboard] = await second.waitForLine(DASHBOARD);
    await signInAsPrintedAdmin(second, dashboard!); // the printed password works
    expect(second.output()).toContain(`change it with \`remonitor user passwd admin --data-dir ${dataDir}\``);
    // --no-agent: only the hub's own MQTT identity, no node for this machine.
    expect(authState(dataDir)).toEqual({ users: ['admin'], mqtt: ['hub:remonitor-hub'] });
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // Without --no-agent this machine's agent gets its node identity; the password is not printed again.
    const third = up(dataDir, '--http-port', '0');
    await third.waitForLine(DASHBOARD);
    expect(authState(dataDir).mqtt).toContain(`node:${defaultNodeName()}`);
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(third.output()).not.toMatch(/password/);
  });
});
