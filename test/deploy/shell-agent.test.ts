// The agent without Node.js (deploy/remonitor-agent.sh) run by busybox's ash, as on a router or a
// Pi Zero, with Debian's mosquitto_pub, against the real broker (checking node tokens, over TCP and
// TLS) and the real hub: its JSON samples decode and are stored, its status says online and its
// last will offline, its figures agree with the Node agent's on this machine, a bad option stops
// it with exit 2 naming the option, and it keeps trying a broker that is not there yet.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { decodeSampleJson, topics, type Sample } from '../../protocol/index.ts';
import { fakeSystemctl, startUnit, unitKeys } from '../helpers/fake-systemd.ts';
import { selfSignedPair } from '../helpers/self-signed.ts';
import { CLI, cleanup, getJson, quietLog, REPO, runCleanups, spawnProcess, startHub, tempDir, waitFor, type Spawned } from '../helpers/parts.ts';

const SCRIPT = join(REPO, 'deploy/remonitor-agent.sh');
const BUSYBOX = '/usr/bin/busybox';
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

for (const [tool, pkg] of [
  [BUSYBOX, 'busybox'],
  [MOSQUITTO_PUB, 'mosquitto-clients'],
]) {
  if (spawnSync(tool!, ['--help'], { stdio: 'ignore' }).error) throw new Error(`${tool} is missing: apt-get install ${pkg} (.ci/run installs it)`);
}

let brokerUrl: string;
let api: string;
let credentials: MqttCredentials;
let tlsUrl: string;
let caFile: string;
/** Viewer credentials, to watch the topics as any client of the hub can. */
let viewer: { username: string; password: string };

beforeAll(async () => {
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => void db.close());
  credentials = new MqttCredentials(db);
  const pair = selfSignedPair(tempDir());
  caFile = pair.certFile;
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials, tls: { cert: pair.cert, key: pair.key, port: 0 } });
  await broker.start();
  cleanup(() => broker.stop());
  brokerUrl = `mqtt://127.0.0.1:${broker.port}`;
  tlsUrl = `mqtts://127.0.0.1:${broker.tlsPort}`;
  const hubToken = credentials.issue('remonitor-hub', 'hub');
  viewer = { username: 'watcher', password: credentials.add('watcher', 'viewer') };
  ({ api } = await startHub(brokerUrl, dataDir, { username: 'remonitor-hub', password: hubToken }));
});
afterAll(runCleanups);
afterEach(async () => {
  for (const stop of perTest.splice(0)) await stop();
});
const perTest: (() => Promise<void> | void)[] = [];

/** The shell agent under busybox ash, leading a process group of its own (it and its mosquitto_pub). */
function shellAgent(node: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Spawned {
  const agent = spawnProcess(BUSYBOX, ['sh', SCRIPT, '--node', node, '--interval', '250ms', ...args], {
    env: { REMONITOR_BROKER: brokerUrl, ...env },
    group: true,
  });
  perTest.push(() => killGroup(agent));
  return agent;
}

async function killGroup(agent: Spawned): Promise<void> {
  try {
    process.kill(-agent.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await agent.exited;
}

/** Pids of the agent's process group, from /proc: the shell and its children. */
function groupPids(leader: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp === leader) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function nodeStatus(node: string): Promise<string | undefined> {
  const { body } = await getJson<{ nodes: { name: string; status: string }[] }>(`${api}/api/nodes`);
  return body.nodes.find((n) => n.name === node)?.status;
}

/** A viewer's subscription to one node's JSON samples and status, decoded as the hub decodes them. */
async function watch(url: string, node: string, auth: { username: string; password: string } | null = viewer) {
  const client = await mqtt.connectAsync(url, { ...auth, reconnectPeriod: 200, ca: url.startsWith('mqtts') ? readFileSync(caFile) : undefined });
  perTest.push(() => client.endAsync());
  const samples: Partial<Sample>[] = [];
  const statuses: string[] = [];
  client.on('message', (topic, payload) => {
    if (topic === topics.json(node)) samples.push(decodeSampleJson(payload));
    else statuses.push(payload.toString());
  });
  await client.subscribeAsync([topics.json(node), topics.status(node)], { qos: 1 });
  return { samples, statuses };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('options', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(BUSYBOX, ['sh', SCRIPT, ...args], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, ...env } });
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['an unknown flag', ['--bogus'], {}, /unknown option "--bogus"/],
    ['a flag without its value', ['--node'], {}, /--node needs a value/],
    ['a duration without a unit it knows', ['--interval', '5x'], {}, /--interval "5x": must be a duration such as 500ms, 1s or 5m/],
    ['an interval below 250ms', ['--interval=100ms'], {}, /--interval "100ms": must be between 250ms and 1h/],
    ['REMONITOR_INTERVAL, named by its flag', [], { REMONITOR_INTERVAL: '2h' }, /--interval "2h": must be between 250ms and 1h/],
    ['a node name with a space', ['--node', 'kitchen pi'], {}, /--node "kitchen pi": allowed are A-Z a-z 0-9 \. _ -/],
    ['a WebSocket broker', ['--broker', 'ws://hub:8080/mqtt'], {}, /--broker "ws:\/\/hub:8080\/mqtt": mosquitto_pub speaks MQTT over TCP only/],
    ['a port out of range', ['--broker', 'mqtt://hub:99999'], {}, /port 99999 is not between 1 and 65535/],
    ['--ca for a plain broker', ['--broker', 'mqtt://hub', '--ca', '/etc/hostname'], {}, /--ca is for mqtts:\/\/ brokers/],
    ['an option of the Node agent only', ['--spool-dir', '/tmp'], {}, /--spool-dir is an option of the Node.js agent only/],
  ];
  it.each(cases)('%s: exit 2, naming it', (_, args, env, message) => {
    const result = run(args, env);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(2);
  });

  it('--help says every flag with its variable', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    for (const flag of ['broker', 'node', 'username', 'password', 'interval', 'ca']) {
      expect(result.stdout).toMatch(new RegExp(`--${flag} .*\\[REMONITOR_${flag.toUpperCase()}`));
    }
  });
});

describe('the shell agent against a hub', () => {
  it('publishes JSON samples the hub stores, says online, and shows its token to no one in ps', async () => {
    const token = credentials.add('shell-pi', 'node');
    const seen = await watch(brokerUrl, 'shell-pi');
    const startedMs = Date.now();
    const agent = shellAgent('shell-pi', [], { REMONITOR_PASSWORD: token });
    await waitFor('6 samples from shell-pi', () => seen.samples.length >= 6, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });

    const [first, ...rest] = seen.samples;
    expect(first!.boot).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.samples.map((s) => s.seq)).toEqual(seen.samples.map((_, i) => i));
    for (const s of seen.samples) {
      expect(s.v).toBe(1);
      expect(s.boot).toBe(first!.boot);
      // $EPOCHREALTIME: the milliseconds are real, not a whole second's.
      expect(s.ts_ms).toBeGreaterThanOrEqual(startedMs - 1000);
      expect(s.ts_ms).toBeLessThanOrEqual(Date.now());
      expect(s.mem_total_bytes).toBeGreaterThan(0);
      expect(s.mem_pct).toBeGreaterThan(0);
      expect(s.load_1).toBeGreaterThanOrEqual(0);
      expect(s.uptime_s).toBeGreaterThan(0);
      expect(s.filesystems!.length).toBeGreaterThan(0);
      for (const fs of s.filesystems!) expect(fs.used_bytes).toBeLessThanOrEqual(fs.size_bytes);
    }
    // Rates need two readings: from the second sample on.
    expect(first!.cpu_pct).toBeUndefined();
    for (const s of rest) {
      expect(s.cpu_pct).toBeGreaterThanOrEqual(0);
      expect(s.cpu_core_pct!.length).toBeGreaterThan(0);
    }
    expect(rest.some((s) => s.net !== undefined)).toBe(true);
    expect(new Set(seen.samples.map((s) => s.ts_ms)).size).toBeGreaterThan(1);

    await waitFor('shell-pi online at the hub', async () => (await nodeStatus('shell-pi')) === 'online');
    const { body } = await getJson<{ data: (number | null)[][] }>(`${api}/api/nodes/shell-pi/series?metrics=mem_pct,disk_pct,load_1&from=-1m&to=now`);
    const [times, mem, disk, load] = body.data;
    expect(times!.length).toBeGreaterThanOrEqual(3);
    for (const series of [mem, disk, load]) expect(series!.filter((v) => v !== null).length).toBeGreaterThanOrEqual(3);

    // The token reached mosquitto_pub through its options file, not its arguments.
    const pids = groupPids(agent.child.pid!);
    const commands = pids.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    expect(commands.some((c) => c.includes('mosquitto_pub') && c.includes('-l'))).toBe(true);
    for (const command of commands) expect(command).not.toContain(token);
  });

  it('between samples it is three processes: the shell, one awk and one mosquitto_pub, with no malloc arena per thread', async () => {
    const token = credentials.add('lean-pi', 'node');
    const seen = await watch(brokerUrl, 'lean-pi');
    const agent = shellAgent('lean-pi', [], { REMONITOR_PASSWORD: token });
    await waitFor('4 samples from lean-pi', () => seen.samples.length >= 4, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    // The program each process runs: busybox's applet, or the binary's name.
    const programs = () =>
      groupPids(agent.child.pid!)
        .map((pid) => {
          const [command, applet] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          return command!.endsWith('busybox') ? `busybox ${applet}` : command!.replace(/^.*\//, '');
        })
        .sort();
    // Once after each of the next samples: no sleep, cat or subshell lives between them
    // (df and the status publisher come once a minute, and not in these seconds).
    for (let i = 0; i < 6; i++) {
      const next = seen.samples.length + 1;
      await waitFor(`sample ${next}`, () => seen.samples.length >= next, 20_000);
      expect(programs()).toEqual(['busybox awk', 'busybox sh', 'mosquitto_pub']);
    }
    const publisher = groupPids(agent.child.pid!).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('mosquitto_pub'));
    expect(readFileSync(`/proc/${publisher}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=1');
  });

  it('leaves its last will: offline when the whole process group is killed, offline too on SIGTERM', async () => {
    const token = credentials.add('will-pi', 'node');
    const seen = await watch(brokerUrl, 'will-pi');
    const killed = shellAgent('will-pi', ['--password', token]);
    await waitFor('will-pi online', async () => (await nodeStatus('will-pi')) === 'online' && seen.samples.length >= 2, 20_000);
    process.kill(-killed.child.pid!, 'SIGKILL');
    await killed.exited;
    await waitFor('the broker publishes the will: will-pi offline', async () => (await nodeStatus('will-pi')) === 'offline');
    expect(seen.statuses.at(-1)).toBe('offline');

    const stopped = shellAgent('will-pi', ['--password', token]);
    await waitFor('will-pi online again', async () => (await nodeStatus('will-pi')) === 'online', 20_000);
    const before = seen.samples.length;
    await waitFor('samples of the second run', () => seen.samples.length >= before + 2);
    process.kill(stopped.child.pid!, 'SIGTERM'); // the shell alone, as procd stops a service
    expect(await stopped.exited).toEqual({ code: 0, signal: null });
    await waitFor('will-pi offline after SIGTERM', async () => (await nodeStatus('will-pi')) === 'offline');
    expect(groupPids(stopped.child.pid!)).toEqual([]); // its mosquitto_pub went with it
  });

  it('agrees with the Node agent on memory, load and disk on the same machine', async () => {
    const shellToken = credentials.add('side-shell', 'node');
    const nodeToken = credentials.add('side-node', 'node');
    const shellSeen = await watch(brokerUrl, 'side-shell');
    shellAgent('side-shell', [], { REMONITOR_PASSWORD: shellToken });
    const nodeAgent = spawnProcess(process.execPath, [
      CLI,
      'agent',
      '--broker',
      brokerUrl,
      '--node',
      'side-node',
      '--username',
      'side-node',
      '--password',
      nodeToken,
      '--interval',
      '250ms',
      '--spool-dir',
      join(tempDir(), 'spool'),
    ]);
    perTest.push(async () => {
      nodeAgent.child.kill('SIGKILL');
      await nodeAgent.exited;
    });
    await waitFor('both agents online', async () => (await nodeStatus('side-shell')) === 'online' && (await nodeStatus('side-node')) === 'online', 30_000);
    // The window: 3 s once both report.
    const fromMs = Date.now();
    const shellBefore = shellSeen.samples.length;
    await waitFor('3 s of samples from both', async () => Date.now() - fromMs > 3000 && shellSeen.samples.length >= shellBefore + 8, 20_000);
    const toMs = Date.now();
    const columns = async (node: string) => {
      const { body } = await getJson<{ data: (number | null)[][] }>(
        `${api}/api/nodes/${node}/series?metrics=mem_pct,disk_pct,load_1&from=${fromMs}&to=${toMs}`,
      );
      return body.data.slice(1).map((column) => column.filter((v): v is number => v !== null));
    };
    // The hub writes in batches: wait until both agents' samples of the window are stored.
    const series = async (node: string) => {
      const [mem, disk, load] = await waitFor(`${node}'s samples stored`, async () => {
        const stored = await columns(node);
        return stored.every((c) => c.length >= 4) ? stored : null;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nthe Node agent's output:\n${nodeAgent.output()}`);
      });
      return { mem: mean(mem!), disk: mean(disk!), load: mean(load!) };
    };
    const shell = await series('side-shell');
    const node = await series('side-node');
    // Same /proc files, same arithmetic, read within the same seconds (other tests share the machine).
    expect(Math.abs(shell.mem - node.mem), `mem_pct shell ${shell.mem} node ${node.mem}`).toBeLessThanOrEqual(3);
    expect(Math.abs(shell.disk - node.disk), `disk_pct shell ${shell.disk} node ${node.disk}`).toBeLessThanOrEqual(1);
    expect(Math.abs(shell.load - node.load), `load_1 shell ${shell.load} node ${node.load}`).toBeLessThanOrEqual(Math.max(0.5, 0.2 * node.load));
  });

  it('speaks TLS to an mqtts:// broker with --ca', async () => {
    const token = credentials.add('tls-pi', 'node');
    const seen = await watch(tlsUrl, 'tls-pi');
    const agent = shellAgent('tls-pi', ['--broker', tlsUrl, '--ca', caFile, '--username', 'tls-pi'], { REMONITOR_PASSWORD: token });
    await waitFor('samples over TLS', () => seen.samples.length >= 2 && seen.statuses.includes('online'), 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
  });

  it('says why the broker refused it, for its samples and for its status', async () => {
    credentials.add('refused-pi', 'node');
    const agent = shellAgent('refused-pi', [], { REMONITOR_PASSWORD: 'not-its-token' });
    await agent.waitForLine(/publishing status online: Error: The connection was refused/);
    await agent.waitForLine(/mosquitto_pub: Error: The connection was refused/);
    expect(await nodeStatus('refused-pi')).not.toBe('online');
  });

  it('keeps trying a broker that is not there yet, and reports once it is', async () => {
    const port = await freePort();
    const agent = shellAgent('late-pi', [], { REMONITOR_BROKER: `mqtt://127.0.0.1:${port}` });
    await agent.waitForLine(/mosquitto_pub stopped; connecting again in 1 s/);
    // An open broker of its own (loopback only), started on the port the agent keeps trying.
    const late = new EmbeddedBroker({ port, log: quietLog });
    await late.start();
    perTest.push(() => late.stop());
    const seen = await watch(`mqtt://127.0.0.1:${port}`, 'late-pi', null);
    await waitFor('samples once the broker is up', () => seen.samples.length >= 2, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
  });
});

describe('install-agent.sh --shell, served by the hub', () => {
  it('installs the script, its settings and a unit under --prefix; the unit runs it (dash re-runs it under busybox) and the node reports', async () => {
    const served = await fetch(`${api}/agent/remonitor-agent.sh`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/x-shellscript/);
    expect(await served.text()).toBe(readFileSync(SCRIPT, 'utf8'));

    const token = credentials.add('shell-joined', 'node');
    const install = await (await fetch(`${api}/install.sh`)).text();
    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-root-');
    const PATH = `${systemctl.binDir}:${process.env.PATH}`;
    // Asynchronously: the script downloads the agent from the hub, which runs in this process.
    const run = (args: string[]) => pipeToSh(install, args, { ...process.env, PATH });
    const installed = await run(['--shell', '--node', 'shell-joined', '--token', token, '--interval', '250ms', '--prefix', root]);
    expect(installed.stderr).toBe('');
    expect(installed.stdout).toMatch(/remonitor shell agent installed under \S+ as node "shell-joined", publishing to mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(installed.code).toBe(0);
    expect(systemctl.calls()).toEqual([]); // --prefix leaves the host's systemd alone

    expect(readFileSync(join(root, 'opt/remonitor/remonitor-agent.sh'), 'utf8')).toBe(readFileSync(SCRIPT, 'utf8'));
    const envFile = join(root, 'etc/remonitor/agent.env');
    expect(readFileSync(envFile, 'utf8')).toBe(
      `REMONITOR_BROKER=${brokerUrl}\nREMONITOR_NODE=shell-joined\nREMONITOR_USERNAME=shell-joined\nREMONITOR_PASSWORD=${token}\nREMONITOR_INTERVAL=250ms\n`,
    );
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const unit = readFileSync(join(root, 'etc/systemd/system/remonitor-agent.service'), 'utf8');
    // The unit shipped in deploy/ is the one the script writes, for the default root.
    expect(unit.replaceAll(root, '')).toBe(readFileSync(join(REPO, 'deploy/remonitor-agent-shell.service'), 'utf8'));
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/remonitor-agent.service'))).toBe('../remonitor-agent.service');
    const verify = spawnSync('systemd-analyze', ['verify', join(root, 'etc/systemd/system/remonitor-agent.service')], { encoding: 'utf8' });
    if (!verify.error) expect(verify.stderr, 'systemd-analyze verify').not.toMatch(/remonitor-agent\.service:/);

    // What systemd would run: ExecStart with EnvironmentFile= applied (/bin/sh is dash here).
    const env = Object.fromEntries(
      readFileSync(unitKeys(unit).get('EnvironmentFile')!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    const agent = startUnit(unit, env);
    perTest.push(() => killGroup(agent));
    await waitFor(
      'shell-joined online with samples',
      async () => {
        if (agent.child.exitCode !== null) throw new Error(`the installed agent exited:\n${agent.output()}`);
        const { body } = await getJson(`${api}/api/nodes`);
        const node = body.nodes.find((n: { name: string }) => n.name === 'shell-joined');
        return node?.status === 'online' && node.latest !== null;
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    const removed = await run(['--uninstall', '--prefix', root]);
    expect(removed.code).toBe(0);
    for (const f of ['opt/remonitor/remonitor-agent.sh', 'etc/remonitor/agent.env', 'etc/systemd/system/remonitor-agent.service'])
      expect(existsSync(join(root, f)), f).toBe(false);
  });

  it('says what the shell agent needs, and refuses a WebSocket broker', () => {
    const install = readFileSync(join(REPO, 'deploy/install-agent.sh'), 'utf8');
    const run = (args: string[], PATH: string) =>
      spawnSync('/bin/sh', ['-s', '--', ...args], { input: install, encoding: 'utf8', env: { ...process.env, PATH }, timeout: 30_000 });
    const root = tempDir('remonitor-root-');
    const ws = run(['--shell', '--bundle', SCRIPT, '--broker', 'ws://hub:8080/mqtt', '--prefix', root], process.env.PATH!);
    expect(ws.stderr).toMatch(/the shell agent speaks MQTT over TCP \(mosquitto_pub\)/);
    expect(ws.status).toBe(1);
    // A PATH with the basics but no mosquitto_pub (nor node): the install says what to install.
    const bare = tempDir('remonitor-bin-');
    for (const tool of ['mktemp', 'rm', 'cp', 'mv', 'chmod', 'mkdir', 'ln', 'id', 'hostname', 'tr', 'cut', 'dirname', 'sh', 'busybox']) {
      spawnSync('/bin/ln', ['-s', spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bare, tool)]);
    }
    const missing = run(['--shell', '--bundle', SCRIPT, '--prefix', root], bare);
    expect(missing.stderr).toMatch(/mosquitto_pub, which is not installed:\n {2}Debian, Raspberry Pi OS: sudo apt install mosquitto-clients/);
    expect(missing.status).toBe(1);
    const noNode = run(['--bundle', SCRIPT, '--prefix', root], bare);
    expect(noNode.stderr).toMatch(/Add --shell: the agent as a shell script/);
  });
});

/** `curl -fsSL $HUB/install.sh | sh -s -- ARGS`, with the script fetched by the test. */
async function pipeToSh(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('/bin/sh', ['-s', '--', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(script);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}
