// The agent on the Node.js that Raspberry Pi OS and Debian 12 ship: Debian bookworm's own nodejs
// 18 package, fetched and unpacked by scripts/fetch-debian-node18.sh (apt-get download, dpkg -x),
// runs the single-file bundle from an empty folder against a real broker that checks node tokens
// and a real hub. Its spool starts as one written by a Node 20 agent (test/fixtures/spool-v1,
// native CRC-32): the Node 18 agent must read and replay it, and a Node 20 spool must read back
// what the Node 18 agent wrote. If Debian's Node 18 cannot be fetched, this fails; it never skips.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { Spool } from '../../edge-agent/spool.ts';
import { unitKeys } from '../helpers/fake-systemd.ts';
import { debianNode18, FETCH_NODE18_TIMEOUT_MS } from '../helpers/debian-node18.ts';
import { CLI, cleanup, getJson, quietLog, REPO, runCleanups, spawnProcess, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

let node18 = '';
beforeAll(() => {
  node18 = debianNode18();
}, FETCH_NODE18_TIMEOUT_MS);

/**
 * How the shipped unit runs the agent: the node flags of its ExecStart (between `node` and the
 * bundle), the bundle's file name there (.cjs: Node 18 must run it as CommonJS) and its Environment=.
 */
function unitRun(): { flags: string[]; bundleName: string; env: Record<string, string> } {
  const unit = readFileSync(join(REPO, 'deploy/remonitor-agent.service'), 'utf8');
  const words = unitKeys(unit).get('ExecStart')!.split(' ');
  const at = words.findIndex((w) => /remonitor-agent\.[cm]?js$/.test(w));
  const env = Object.fromEntries([...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { flags: words.slice(1, at), bundleName: basename(words[at]!), env };
}

/** A broker that lets in only enrolled identities, and a hub connected to it with its own token. */
async function securedHub(node: string) {
  const authDir = tempDir();
  const db = openAuthDb(authDir);
  cleanup(() => void db.close());
  const credentials = new MqttCredentials(db);
  const nodeToken = credentials.add(node, 'node'); // what `remonitor node add NODE` prints
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials });
  await broker.start();
  cleanup(() => broker.stop());
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const { hub, api } = await startHub(url, tempDir(), { username: 'hub', password: credentials.add('hub', 'hub') });
  return { url, hub, api, nodeToken };
}

/** The node's row in GET /api/nodes once it is online with a stored sample. */
async function onlineWithSamples(api: string, node: string) {
  const { body } = await getJson(`${api}/api/nodes`);
  const row = body.nodes.find((n: { name: string }) => n.name === node);
  return row?.status === 'online' && row.latest !== null ? row : null;
}

describe("the agent on Debian bookworm's Node.js 18", () => {
  it("is Debian's own 18.x", () => {
    expect(execFileSync(node18, ['-p', 'process.version'], { encoding: 'utf8' }).trim()).toMatch(/^v18\./);
  });

  it("runs the bundle from an empty folder with the unit's flags, replays a Node 20 spool, and its samples reach the hub", async () => {
    const { url, api, nodeToken } = await securedHub('bookworm-pi');
    const dir = tempDir('remonitor-node18-');
    const unit = unitRun();
    copyFileSync(join(REPO, 'dist/remonitor-agent.mjs'), join(dir, unit.bundleName));
    const spoolDir = join(dir, 'spool');
    // Samples seq 0–11 of a Node 20 agent, 0–2 acknowledged: 3–11 wait to be sent.
    cpSync(join(REPO, 'test/fixtures/spool-v1'), spoolDir, { recursive: true });
    const fixtureBoot = JSON.parse(readFileSync(join(spoolDir, 'spool.json'), 'utf8')).boot as string;

    // The fixture's samples are from November 2025: no age cap, or the agent would drop them as too old.
    const args = [
      '--broker',
      url,
      '--node',
      'bookworm-pi',
      '--username',
      'bookworm-pi',
      '--password',
      nodeToken,
      '--interval',
      '250ms',
      '--spool-dir',
      spoolDir,
      '--spool-max-age',
      '36500d',
    ];
    const agent = spawnProcess(node18, [...unit.flags, unit.bundleName, ...args], { cwd: dir, env: { ...unit.env, NODE_PATH: '' } });
    const row = await waitFor('bookworm-pi online with samples', async () => {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited with ${agent.child.exitCode}`);
      return onlineWithSamples(api, 'bookworm-pi');
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    expect(row.latest.mem_pct).toBeGreaterThan(0);
    // The birth record, read by the bundle running itself in a child process (on Node 18 too).
    const info = await waitFor('the birth record', async () => (await onlineWithSamples(api, 'bookworm-pi'))?.info);
    expect(info).toMatchObject({ interval_ms: 250, agent_version: expect.any(String) });
    expect(info.disks.length).toBeGreaterThan(0);

    // The recent samples, as the dashboard charts them.
    await waitFor('4 live samples in the series', async () => {
      const { body } = await getJson(`${api}/api/nodes/bookworm-pi/series?metrics=cpu_pct,mem_pct&from=-5m`);
      return body.data[0].length >= 4;
    });
    // The spooled samples of the Node 20 agent, read with the bundle's own CRC-32 and replayed.
    const fixtureFrom = 1_764_145_200_000;
    const replayed = await waitFor('the spooled samples stored', async () => {
      const { body } = await getJson(`${api}/api/nodes/bookworm-pi/export?format=json&metrics=cpu_pct&from=${fixtureFrom}&to=${fixtureFrom + 60_000}`);
      return body.length === 9 ? (body as { ts_ms: number; seq: number; cpu_pct: number }[]) : null;
    });
    expect(replayed.map((r) => [r.seq, r.ts_ms])).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11].map((seq) => [seq, fixtureFrom + seq * 1000]));
    expect(replayed.every((r) => r.cpu_pct === 23.4)).toBe(true); // test/fixtures/realistic-sample.ts

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(agent.output()).not.toMatch(/"level":(40|50|60)/); // no warning, error or fatal

    // What the Node 18 agent wrote reads back whole with node:zlib's CRC-32, under the same identity.
    const spool = new Spool({ dir: spoolDir });
    cleanup(() => spool.close());
    expect(spool.openReport.tornBytes).toBe(0);
    expect(spool.boot).toBe(fixtureBoot);
    expect(spool.nextSeq).toBeGreaterThan(15);
    expect(spool.read(spool.firstSeq, 1000).map((r) => r.seq)).toEqual(Array.from({ length: spool.nextSeq - spool.firstSeq }, (_, i) => spool.firstSeq + i));
  });

  it('runs `remonitor agent` from this checkout too', async () => {
    const { url, api, nodeToken } = await securedHub('checkout-pi');
    const args = [
      'agent',
      '--broker',
      url,
      '--node',
      'checkout-pi',
      '--username',
      'checkout-pi',
      '--password',
      nodeToken,
      '--interval',
      '250ms',
      '--spool-dir',
      tempDir(),
    ];
    const agent = spawnProcess(node18, [CLI, ...args]);
    await waitFor('checkout-pi online with samples', async () => {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited with ${agent.child.exitCode}`);
      return onlineWithSamples(api, 'checkout-pi');
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });
});
