// The README's commands, run as written. A block a user is meant to run has a marker line
// `<!-- run: STEP -->` right above its fence; each STEP below says what the user has at that point
// (a hub, a folder on the node) and what must be true after it. The command text comes only from
// the README, with the README's placeholders filled in: HUB, the ports 8080 and 1883 (free ports
// here), and the tokens earlier steps printed (TOKEN, API_TOKEN). A marker without a step here,
// or a step without its marker, fails the test: the two cannot drift apart.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.ts';
import { CLI, REPO, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor, type Spawned } from '../helpers/parts.ts';

afterAll(runCleanups);

interface Block {
  step: string;
  lang: string;
  text: string;
}

/** Every fenced block that follows a `<!-- run: STEP -->` line. */
function runnableBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const pattern = /<!-- run: ([\w-]+) -->\n```(\w*)\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(pattern)) blocks.push({ step: m[1]!, lang: m[2]!, text: m[3]! });
  return blocks;
}

const execFileAsync = promisify(execFile);
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = new Map(runnableBlocks(README).map((b) => [b.step, b]));

/** A user's shell: `remonitor` on PATH (as `npm install -g` or install-hub.sh puts it), run in `cwd`. */
function shellEnv(binDir: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${binDir}:${process.env.PATH}`, REMONITOR_LOG_LEVEL: 'warn' };
}

describe('the README, run as written', () => {
  it('has a step here for every runnable block, and a block for every step', () => {
    expect([...blocks.keys()].sort()).toEqual([...STEPS].sort());
  });

  it('starts the whole system with the first command, and this machine is on the fleet at once', async () => {
    const block = blocks.get('start')!;
    // `npm install` is what CI itself ran in this checkout before the tests; running it again here
    // would rebuild dist/ under the feet of the tests beside this one. The rest runs as written, in
    // the checkout, with only the ports and the data directory moved out of the way.
    const [http, mqtt] = [await freePort(), await freePort()];
    const script = `npm() { if [ "$1" = install ]; then echo "npm install: done by CI before the tests"; else command npm "$@"; fi; }\n${block.text}`;
    const start = spawnProcess('bash', ['-c', script], {
      env: { REMONITOR_HTTP_PORT: String(http), REMONITOR_MQTT_PORT: String(mqtt), REMONITOR_DATA_DIR: tempDir(), REMONITOR_INTERVAL: '500ms' },
      group: true, // npm runs the hub as its child: cleanup ends the whole group
    });
    const admin = await signInAsPrintedAdmin(start, `http://127.0.0.1:${http}`);
    await waitFor(
      `this machine (${hostname()}) on the fleet page with a sample`,
      async () => {
        const { body } = await admin.getJson('/api/nodes');
        return body.nodes?.some((n: { name: string; status: string; latest: unknown }) => n.name === hostname() && n.status === 'online' && n.latest);
      },
      20_000,
    );
  }, 60_000);

  it('joins a node by hand, exports its samples and lets Prometheus scrape, on a hub with its secure defaults', async () => {
    const home = tempDir('remonitor-readme-');
    const bin = join(home, 'bin');
    mkdirSync(bin);
    symlinkSync(CLI, join(bin, 'remonitor'));
    const env = shellEnv(bin);
    const [http, mqtt] = [await freePort(), await freePort()];
    const vars: Record<string, string> = { HUB: '127.0.0.1' };
    const fill = (text: string) =>
      Object.entries(vars)
        .sort(([a], [b]) => b.length - a.length) // API_TOKEN before TOKEN
        .reduce((t, [name, value]) => t.replaceAll(name, value), text.replaceAll(':8080', `:${http}`).replaceAll(':1883', `:${mqtt}`));
    // Asynchronous: a blocked event loop would miss the hub closing an idle keep-alive connection,
    // and the next request would go out on it ("other side closed").
    const run = async (step: string, cwd = home, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
      const block = blocks.get(step);
      if (!block) throw new Error(`README has no block marked <!-- run: ${step} -->`);
      try {
        // What a user sees: stdout and stderr together.
        const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', `exec 2>&1\n${fill(block.text)}`], {
          cwd,
          env: { ...env, ...extraEnv },
          encoding: 'utf8',
          timeout: 90_000,
        });
        return stdout;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(`README step "${step}" failed:\n${fill(block.text)}\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
      }
    };

    // The hub as the README starts it, with its data in ./data of the folder the user is in.
    const hub: Spawned = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', String(http), '--mqtt-port', String(mqtt)], { cwd: home });
    const base = `http://127.0.0.1:${http}`;
    const admin = await signInAsPrintedAdmin(hub, base);

    vars.TOKEN = /shown only now:\s+(\S+)/.exec(await run('node-add'))![1]!;

    // On the node: an empty folder holding the copied bundle, nothing else.
    const pi = join(home, 'pi');
    mkdirSync(pi);
    copyFileSync(join(REPO, 'dist/remonitor-agent.mjs'), join(pi, 'remonitor-agent.mjs'));
    const agent = spawnProcess('bash', ['-c', `exec ${fill(blocks.get('hand-join')!.text)}`], { cwd: pi, env });
    await waitFor(
      'kitchen-pi online with samples',
      async () => {
        const { body } = await admin.getJson(`/api/nodes/kitchen-pi/series?metrics=cpu_pct&from=-5m`);
        return body.data?.[0]?.length >= 3;
      },
      30_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\nagent said:\n${agent.output()}`);
    });

    vars.API_TOKEN = /token \(shown once\): (\S+)/.exec(await run('api-token'))![1]!;
    await run('export');
    const csv = readFileSync(join(home, 'kitchen.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^time,ts_ms,seq,cpu_pct,/);
    expect(csv.length).toBeGreaterThan(3);

    // Prometheus' own scrape, as its configuration says: the target and the bearer credentials.
    const config = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
        input: fill(blocks.get('prometheus')!.text),
        encoding: 'utf8',
      }),
    );
    const job = config.scrape_configs[0];
    const scrape = await fetch(`http://${job.static_configs[0].targets[0]}${job.metrics_path ?? '/metrics'}`, {
      headers: { authorization: `${job.authorization.type ?? 'Bearer'} ${job.authorization.credentials}` },
    });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/remonitor_node_up\{node="kitchen-pi"\} 1/);
    expect(existsSync(join(home, 'data', 'remonitor.db'))).toBe(true);

    // Lost the password: a new one, printed once, that signs in.
    const changed = await run('passwd');
    expect(changed).toMatch(new RegExp(`data directory ${join(home, 'data').replace(/[/.]/g, '\\$&')}`));
    const password = /password \(shown once\): (\S+)/.exec(changed)![1]!;
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ name: 'admin', password }),
    });
    expect(login.status).toBe(200);

    // The leak gate of a CI job: its token as the masked secret, a project whose tests take 3 s.
    const ciToken = /shown only now:\s+(\S+)/.exec(await run('ci-node-add'))![1]!;
    const project = join(home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'project', scripts: { test: 'node -e "setTimeout(() => {}, 3000)"' } }));
    await run('ci-shell', project, { REMONITOR_PASSWORD: ciToken });
    const report = JSON.parse(readFileSync(join(project, 'leak.json'), 'utf8'));
    expect(report.hub?.problem ?? null).toBeNull();
    expect(existsSync(join(project, 'leak.html'))).toBe(true);
    // The password change ended the admin's browser sessions: sign in again with the new one.
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    await waitFor('the CI session on the hub', async () => {
      const sessions = (await (await fetch(`${base}/api/sessions`, { headers: { cookie } })).json()) as { sessions?: { node: string }[] };
      return sessions.sessions?.some((x) => x.node === 'ci');
    }).catch((err) => {
      throw new Error(`${(err as Error).message}\nhub said:\n${hub.output()}`);
    });
  }, 240_000);

  it("tries a fleet: a week of history at once, then the demo's alarms within about two minutes", async () => {
    // The two lines, each in its own terminal as the README says, with `remonitor` on PATH; the
    // hub's ports moved out of the way (and the simulator told where they went).
    const home = tempDir('remonitor-readme-');
    const bin = join(home, 'bin');
    mkdirSync(bin);
    symlinkSync(CLI, join(bin, 'remonitor'));
    const [http, mqtt] = [await freePort(), await freePort()];
    const env = {
      ...shellEnv(bin),
      REMONITOR_HTTP_PORT: String(http),
      REMONITOR_MQTT_PORT: String(mqtt),
      REMONITOR_DATA_DIR: join(home, 'data'),
      REMONITOR_BROKER: `mqtt://127.0.0.1:${mqtt}`,
    };
    const [hubLine, simulateLine] = blocks
      .get('try-fleet')!
      .text.split('\n')
      .map((line) => line.replace(/#.*$/, '').trim());
    const hub = spawnProcess('bash', ['-c', `exec ${hubLine}`], { cwd: home, env });
    await hub.waitForLine(/dashboard at/);
    const simulate = spawnProcess('bash', ['-c', `exec ${simulateLine}`], { cwd: home, env });
    const base = `http://127.0.0.1:${http}`;
    const getJson = async (path: string) => (await fetch(`${base}${path}`)).json();
    await simulate.waitForLine(/backfilled 7d of history/, 240_000);
    const week = await getJson('/api/nodes/sim-0001/series?metrics=mem_pct&from=-7d&to=now&points=500');
    expect(week.data[0][0], 'history reaching back about a week').toBeLessThan(Date.now() / 1000 - 6 * 86_400);
    // Live from here: the README's list, by rule, within its times (and a margin for a busy machine).
    const red = async () =>
      new Set(
        ((await getJson('/api/alarms')).alarms as { node: string; rule_id: string; state: string }[])
          .filter((a) => a.state === 'red' || a.state === 'offline')
          .map((a) => `${a.node} ${a.rule_id}`),
      );
    const expected = ['sim-0002 throttled', 'sim-0004 clock', 'sim-0003 offline', 'sim-0000 disk', 'sim-0001 memory', 'sim-0002 temperature'];
    await waitFor(
      `the demo's alarms: ${expected.join(', ')}`,
      async () => {
        const now = await red();
        return expected.every((a) => now.has(a));
      },
      180_000,
      1000,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}; raised: ${[...(await red())].join(', ')}`);
    });
  }, 480_000);
});

/** Every step this test runs; each needs its block in the README. */
const STEPS = ['start', 'node-add', 'hand-join', 'api-token', 'export', 'prometheus', 'passwd', 'ci-node-add', 'ci-shell', 'try-fleet'];
