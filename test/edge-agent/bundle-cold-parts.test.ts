// The agent bundle carries what an agent under systemd never runs (systeminformation, pino-pretty,
// mqtt's WebSocket and SOCKS transports) compressed, compiled on first use (scripts/build.mjs): each
// still works from the built bundle (node scripts/build.mjs first). The birth record's child is
// tested in birth-record-child.test.ts and, on Node 18, node18.test.ts; mqtts in test/broker/tls.test.ts.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { createLogger } from '../../shared/logger.ts';
import { cleanup, REPO, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const BUNDLE = join(REPO, 'dist/remonitor-agent.mjs');

describe('the agent bundle off its usual path', () => {
  it('logs one readable line an event on a terminal (pino-pretty, from the compressed part)', async () => {
    const shell = `exec ${process.execPath} ${BUNDLE} --broker mqtt://127.0.0.1:1 --node tty-bundle --spool-dir ${tempDir()}`;
    // `script` gives the bundle a pseudo-terminal; its process group is ended once the line is seen.
    const child = spawn('script', ['-qfc', shell, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    cleanup(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mqtt error line within 30 s:\n${out}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (/mqtt error[^\n]*\n/.test(out)) resolve(clearTimeout(timer));
      });
    });
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: agent started \{"node":"tty-bundle"/m);
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: mqtt error \{"err":"connect ECONNREFUSED 127\.0\.0\.1:1"\}$/m);
  });

  it('connects over ws:// (mqtt.connect with the WebSocket transport, from the compressed part)', async () => {
    const log = createLogger('silent');
    const broker = new EmbeddedBroker({ port: 0, log });
    await broker.start();
    cleanup(() => broker.stop());
    const web = createServer();
    broker.attachWebSocket(web);
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    cleanup(() => new Promise<void>((resolve) => web.close(() => resolve())));
    const url = `ws://127.0.0.1:${(web.address() as AddressInfo).port}/mqtt`;
    const agent = spawnProcess(process.execPath, [BUNDLE, '--broker', url, '--node', 'ws-bundle', '--interval', '250ms', '--spool-dir', tempDir()]);
    const [line] = await agent.waitForLine(/\{[^\n]*"msg":"connected to broker"[^\n]*\}/, 30_000);
    expect(JSON.parse(line!)).toMatchObject({ level: 30, name: 'agent', broker: url, node: 'ws-bundle' });
  });
});
