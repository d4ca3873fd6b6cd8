// Starts Debian's Mosquitto on a free loopback port with a config written by the test.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnProcess, tempDir, waitFor } from './parts.ts';
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

export async function startMosquitto(): Promise<{ url: string; port: number }> {
  const dir = tempDir('remonitor-mosquitto-');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // Debian's default drops QoS 1 messages past 1000 queued per client.
      'max_queued_messages 100000',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  spawnProcess(MOSQUITTO, ['-c', conf]);
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor('mosquitto accepting connections', async () => {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 1000 });
    await client.endAsync();
    return true;
  });
  return { url, port };
}
