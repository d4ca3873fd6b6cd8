// PROTOCOL.md's client examples, run as written against a hub with its secure defaults: the Python
// one with Debian's own python3-paho-mqtt (1.6) and python3-cbor2, the Node.js one with mqtt and
// cbor-x. Each must print a line for this machine's agent with its CPU and memory. The stated
// sample sizes are checked against the agent's real samples too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSample } from '../../protocol/index.ts';
import { CLI, REPO, cleanup, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

const PROTOCOL = readFileSync(join(REPO, 'PROTOCOL.md'), 'utf8');

/** The fenced block of `lang` that follows the heading `### title`. */
function example(title: string, lang: string): string {
  const section = PROTOCOL.split(`### ${title}\n`)[1];
  const block = section && new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(section);
  if (!block) throw new Error(`PROTOCOL.md has no ${lang} block under "### ${title}"`);
  return block[1]!;
}

const LINE = new RegExp(`^${hostname().replace(/[.]/g, '\\.')} cpu \\d+\\.\\d% mem \\d+\\.\\d%$`, 'm');

describe("PROTOCOL.md's examples", () => {
  it('print this machine’s CPU and memory from a secured hub, in Python with Debian’s paho-mqtt and in Node.js; sizes as stated', async () => {
    const dataDir = tempDir();
    const made = execFileSync(process.execPath, [CLI, 'client', 'add', 'watcher', '--role', 'viewer', '--data-dir', dataDir], { encoding: 'utf8' });
    const password = /shown only now:\s+(\S+)/.exec(made)![1]!;
    const up = spawnProcess(process.execPath, [
      CLI,
      'up',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--data-dir',
      dataDir,
      '--interval',
      '500ms',
      '--log-level',
      'warn',
    ]);
    const [, port] = await up.waitForLine(/MQTT at mqtt:\/\/[\d.]+:(\d+)/);
    const fill = (code: string) =>
      code.replaceAll('HOST', '127.0.0.1').replaceAll('1883', port!).replaceAll('USER', 'watcher').replaceAll('PASSWORD', password);

    const folder = tempDir();
    writeFileSync(join(folder, 'watch.py'), fill(example('Python', 'python')));
    const python = spawnProcess('/usr/bin/python3', ['-u', 'watch.py'], { cwd: folder });
    await python.waitForLine(LINE, 30_000);

    // As `npm install mqtt cbor-x` leaves it: the packages in the folder's node_modules.
    mkdirSync(join(folder, 'node_modules'));
    for (const pkg of ['mqtt', 'cbor-x']) symlinkSync(join(REPO, 'node_modules', pkg), join(folder, 'node_modules', pkg));
    writeFileSync(join(folder, 'watch.mjs'), fill(example('Node.js', 'js')));
    const node = spawnProcess(process.execPath, ['watch.mjs'], { cwd: folder });
    await node.waitForLine(LINE, 30_000);

    // "about 170 bytes from a 2-core VM … about 300 from a 4-core Pi; … 200–250 bytes larger with the process lists".
    const stated =
      /sample is far smaller, and its size follows the machine: about (\d+) bytes[\s\S]*?about (\d+) bytes[\s\S]*?about (\d+)–(\d+) bytes larger/.exec(
        PROTOCOL,
      );
    expect(stated, 'PROTOCOL.md states the sample sizes').not.toBeNull();
    const [smallest, largest, extraLow, extraHigh] = stated!.slice(1).map(Number) as [number, number, number, number];
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'watcher', password, protocolVersion: 4 });
    cleanup(() => client.endAsync());
    const sizes = { plain: [] as number[], withProcesses: [] as number[] };
    client.on('message', (_topic, payload) => (decodeSample(payload).top_cpu ? sizes.withProcesses : sizes.plain).push(payload.length));
    await client.subscribeAsync(`remonitor/${hostname()}/metrics`);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(sizes.plain.length).toBeGreaterThan(3);
    expect(sizes.withProcesses.length).toBeGreaterThan(0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(sizes.plain)).toBeGreaterThan(smallest * 0.7);
    expect(mean(sizes.plain)).toBeLessThan(largest * 1.3);
    expect(mean(sizes.withProcesses) - mean(sizes.plain)).toBeGreaterThan(extraLow * 0.6);
    expect(mean(sizes.withProcesses) - mean(sizes.plain)).toBeLessThan(extraHigh * 1.4);
  }, 90_000);
});
