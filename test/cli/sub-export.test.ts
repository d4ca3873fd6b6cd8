// `remonitor sub` and `remonitor export` as a user runs them: the built CLI as a child process
// against a real broker and hub.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample } from '../../protocol/index.ts';
import { progressLine } from '../../cli/export.ts';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';
import { fakeAgentClient, publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { CLI, cleanup, runCleanups, spawnProcess, startBroker, startHub, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('remonitor sub', () => {
  it('prints the live stream decoded as JSON lines', async () => {
    const { url } = await startBroker();
    const agent = await fakeAgentClient(url);
    const sub = spawnProcess(process.execPath, [CLI, 'sub', '--broker', url, '--count', '3']);
    await sub.waitForLine(/listening on/);
    const t = Date.now();
    await publishNode(agent, 'sub-node', [sampleAt(1, t, { cpu_pct: 11.5 }), sampleAt(2, t + 1000, { cpu_pct: 12.5 })]);
    const { code } = await sub.exited;
    expect(code).toBe(0);
    const lines = sub
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ topic: 'remonitor/sub-node/status', node: 'sub-node', channel: 'status', payload: 'online' });
    expect(lines[1]).toMatchObject({ topic: 'remonitor/sub-node/metrics', channel: 'metrics', payload: { seq: 1, ts_ms: t, cpu_pct: 11.5 } });
    expect(lines[2].payload.filesystems[0].mount).toBe('/');
  });

  it('shows a message that does not decode with the reason, and keeps going', async () => {
    const { url } = await startBroker();
    const agent = await fakeAgentClient(url);
    const sub = spawnProcess(process.execPath, [CLI, 'sub', 'remonitor/+/metrics', '--broker', url, '--count', '2']);
    await sub.waitForLine(/listening on/);
    await agent.publishAsync('remonitor/broken/metrics', Buffer.from([0xff, 0x00]));
    await agent.publishAsync('remonitor/fine/metrics', Buffer.from(encodeSample(sampleAt(5, Date.now()))));
    await sub.exited;
    const lines = sub
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ node: 'broken', error: expect.stringMatching(/sample/) });
    expect(lines[1]).toMatchObject({ node: 'fine', payload: { seq: 5 } });
  });
});

describe('remonitor export', () => {
  it('writes the samples to a file and reports progress on stderr', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url);
    const t0 = Date.now() - 3600_000;
    hub.store.insertBatch(
      Array.from({ length: 3000 }, (_, i) => {
        const sample = sampleAt(i + 1, t0 + i * 1000);
        return { node: 'exp-cli', sample, raw: encodeSample(sample) };
      }),
    );
    const out = join(tempDir(), 'out.csv');
    const run = spawnProcess(process.execPath, [
      CLI,
      'export',
      'exp-cli',
      '--hub',
      api,
      '--from',
      String(t0),
      '--to',
      String(t0 + 2999_000),
      '--metrics',
      'cpu_pct,mem_pct',
      '--out',
      out,
    ]);
    const { code } = await run.exited;
    expect(run.output()).toMatch(/100% · 3,000 rows · \d+ kB/);
    expect(run.output()).toMatch(/3000 samples of exp-cli written to .*out\.csv/);
    expect(code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('time,ts_ms,seq,cpu_pct,mem_pct');
    expect(lines).toHaveLength(3001);
  });

  it('says what the hub refused', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const run = spawnProcess(process.execPath, [CLI, 'export', 'nobody', '--hub', api]);
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toMatch(/the hub refused the export \(404\): no node named "nobody"/);
  });

  it('signs in with --token on a hub with logins, and says how to get one when it is missing', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const authDb = openAuthDb(dataDir);
    cleanup(() => void authDb.close());
    const users = new WebUsers(authDb);
    const { hub, api } = await startHub(url, dataDir, { webAuth: createWebAuth({ users }) });
    const sample = sampleAt(1, Date.now() - 60_000);
    hub.store.insertBatch([{ node: 'exp-auth', sample, raw: encodeSample(sample) }]);
    const refused = spawnProcess(process.execPath, [CLI, 'export', 'exp-auth', '--hub', api]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.output()).toMatch(
      /refused the export \(401\).*This hub needs an API token: pass --token TOKEN or set REMONITOR_TOKEN; on the hub, `remonitor token add NAME --role viewer --data-dir DIR` makes one/,
    );
    const { token } = users.addApiToken('exporter', 'viewer');
    // A relative start written as the next argument, though it starts with "-", as --help shows it;
    // and the token from the environment.
    for (const [args, env] of [
      [['--token', token, '--from', '-7d'], {}],
      [['--from=-7d', '--to', '-1s'], { REMONITOR_TOKEN: token }],
    ] as const) {
      const run = spawnProcess(process.execPath, [CLI, 'export', 'exp-auth', '--hub', api, ...args], { env });
      expect((await run.exited).code, run.output()).toBe(0);
      expect(run.output()).toMatch(/1 samples of exp-auth written to stdout/);
    }
    const revoked = spawnProcess(process.execPath, [CLI, 'export', 'exp-auth', '--hub', api, '--token', 'rmt_nonsense']);
    expect((await revoked.exited).code).toBe(1);
    expect(revoked.output()).toMatch(/refused the export \(401\).*the token is unknown or revoked/);
  });

  it('formats progress as the share of the time range covered', () => {
    expect(progressLine(1234, 2_500_000, 1500, 1000, 2000)).toBe(' 50% · 1,234 rows · 2.5 MB');
    expect(progressLine(0, 0, null, 1000, 2000)).toBe('  0% · 0 rows · 0 kB');
  });
});

describe('remonitor up --json-mirror', () => {
  it("takes the flag and mirrors its own agent's samples as JSON", async () => {
    const up = spawnProcess(process.execPath, [
      CLI,
      'up',
      '--insecure',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--data-dir',
      tempDir(),
      '--interval',
      '250ms',
      '--json-mirror',
    ]);
    const [, mqttUrl] = await up.waitForLine(/MQTT at (mqtt:\/\/\S+?),/);
    const sub = spawnProcess(process.execPath, [CLI, 'sub', 'remonitor/+/metrics/json', '--broker', mqttUrl!, '--count', '3']);
    expect((await sub.exited).code).toBe(0);
    const lines = sub
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.topic).toMatch(/^remonitor\/[^/]+\/metrics\/json$/);
      expect(line.payload).toMatchObject({ v: 1, ts_ms: expect.any(Number) });
    }
    // The agent's very first sample has no CPU figure (a rate needs two readings); later ones do.
    expect(lines.some((l) => typeof l.payload.cpu_pct === 'number')).toBe(true);
  });
});
