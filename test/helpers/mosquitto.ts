// Starts Debian's Mosquitto on a free loopback port with a config written by the test.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnProcess, tempDir, waitFor, type Spawned } from './parts.ts';
import { connectAsync } from 'mqtt';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface MosquittoAuth {
  /** User name → password, written with mosquitto_passwd. */
  users: Record<string, string>;
  /** A Mosquitto ACL file, e.g. deploy/mosquitto.acl. */
  aclFile: string;
}

/**
 * Mosquitto on a free port (or `port`, to start it again where it was): anonymous, or with `auth`
 * users and an ACL as a deployment has them. Without persistence: a restart forgets every session.
 */
export async function startMosquitto(auth?: MosquittoAuth, options: { port?: number } = {}): Promise<{ url: string; port: number; proc: Spawned }> {
  const dir = tempDir('remonitor-mosquitto-');
  const port = options.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  const access = ['allow_anonymous true'];
  if (auth) {
    // Mosquitto started as root drops to its own user, which must still read the password file.
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    // Plain "user:password" lines, hashed in place by one mosquitto_passwd run (-U), however many users.
    writeFileSync(
      passwd,
      Object.entries(auth.users)
        .map(([user, password]) => `${user}:${password}\n`)
        .join(''),
    );
    execFileSync('/usr/bin/mosquitto_passwd', ['-U', passwd]);
    // A copy beside it: the checkout may lie where that user cannot read (a clone in a 0700 temporary directory).
    const acl = join(dir, 'acl');
    copyFileSync(auth.aclFile, acl);
    access.splice(0, 1, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`);
  }
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...access,
      'persistence false',
      // Debian's default drops QoS 1 messages past 1000 queued per client.
      'max_queued_messages 100000',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  const proc = spawnProcess(MOSQUITTO, ['-c', conf]);
  const url = `mqtt://127.0.0.1:${port}`;
  const [user, password] = Object.entries(auth?.users ?? {})[0] ?? [];
  await waitFor('mosquitto accepting connections', async () => {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 1000, username: user, password });
    await client.endAsync();
    return true;
  });
  return { url, port, proc };
}
