// The Dockerfile, compose.yaml and the hub's systemd unit, run outside Docker and systemd (neither
// runs here): the image's runtime files laid out as its COPY lines say, started with its exact
// ENTRYPOINT + CMD and ENV, checked with its exact HEALTHCHECK; compose's Mosquitto profile with
// its exact hub command against a real Mosquitto; install-hub.sh with a fake systemctl
// (test/helpers/fake-systemd.ts), then the unit's ExecStart.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemctl, startUnit } from '../helpers/fake-systemd.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { connectAsync } from 'mqtt';
import { publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, getJson, REPO, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

interface RuntimeStage {
  env: Record<string, string>;
  copies: { from: string; to: string }[];
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
}

/** The last stage of the Dockerfile: its ENV, COPY --from=build, ENTRYPOINT, CMD and HEALTHCHECK. */
function runtimeStage(dockerfile: string): RuntimeStage {
  const text = dockerfile.replace(/\\\n\s*/g, ' ');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const stage0: RuntimeStage = { env: {}, copies: [], entrypoint: [], cmd: [], healthcheck: [] };
  for (const line of stage.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^ENV (.*)$/.exec(line))) for (const [, k, v] of m[1]!.matchAll(/([A-Z_]+)=(\S+)/g)) stage0.env[k!] = v!;
    if ((m = /^COPY --from=build \/app\/(\S+) \.\/?(\S*)$/.exec(line))) stage0.copies.push({ from: m[1]!, to: m[2]! || m[1]! });
    if ((m = /^ENTRYPOINT (\[.*\])$/.exec(line))) stage0.entrypoint = JSON.parse(m[1]!);
    if ((m = /^CMD (\[.*\])$/.exec(line))) stage0.cmd = JSON.parse(m[1]!);
    if ((m = /^HEALTHCHECK .* CMD (\[.*\])$/.exec(line))) stage0.healthcheck = JSON.parse(m[1]!);
  }
  return stage0;
}

describe('Dockerfile', () => {
  it('runs the hub from exactly the files it copies, with its command, env and healthcheck', async () => {
    const stage = runtimeStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(stage.entrypoint).toEqual(['node', 'bin/remonitor.mjs']);
    expect(stage.env['REMONITOR_DATA_DIR']).toBe('/data');
    // Lay out /app as the runtime stage would (node_modules linked: it is the build's, unpruned here).
    const app = tempDir('remonitor-image-');
    for (const { from, to } of stage.copies) {
      const dest = join(app, to);
      mkdirSync(join(dest, '..'), { recursive: true });
      if (from === 'node_modules') symlinkSync(join(REPO, from), dest);
      else cpSync(join(REPO, from), dest, { recursive: true });
    }
    // As `docker run -e` would: a temporary /data and free ports instead of 8080/1883.
    const env = { ...stage.env, REMONITOR_DATA_DIR: tempDir(), REMONITOR_HTTP_PORT: '0', REMONITOR_MQTT_PORT: '0', REMONITOR_HOST: '127.0.0.1' };
    const hub = spawnProcess(process.execPath, [...stage.entrypoint.slice(1), ...stage.cmd], { cwd: app, env });
    const [, url] = await hub.waitForLine(/dashboard at (http:\/\/\S+)/);
    const port = new URL(url!).port;

    const health = spawnSync(process.execPath, stage.healthcheck.slice(1), { env: { ...process.env, ...env, REMONITOR_HTTP_PORT: port }, encoding: 'utf8' });
    expect(health.status, health.stderr).toBe(0);
    // The pages, the join script and the agent bundle all come from the copied files; the data
    // only after signing in as the admin the first start printed.
    for (const path of ['/login', '/install.sh', '/agent/remonitor-agent.mjs', '/assets/login-page.js']) {
      expect((await fetch(new URL(path, url)).then((r) => r.status)), path).toBe(200);
    }
    expect(await fetch(new URL('/metrics', url)).then((r) => r.status)).toBe(401);
    const admin = await signInAsPrintedAdmin(hub, url!);
    expect((await admin.getJson('/api/nodes')).status).toBe(200);
    // `docker stop` sends SIGTERM: a clean exit.
    hub.child.kill('SIGTERM');
    expect((await hub.exited).code).toBe(0);
    const down = spawnSync(process.execPath, stage.healthcheck.slice(1), { env: { ...process.env, REMONITOR_HTTP_PORT: port }, encoding: 'utf8' });
    expect(down.status).toBe(1);
  });

  it('compose profile mosquitto: the hub command ingests from an external Mosquitto with passwords and the ACL', async () => {
    // Debian's python3-yaml reads the compose file as Docker Compose would.
    const compose = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
        input: readFileSync(join(REPO, 'deploy/compose.yaml')),
        encoding: 'utf8',
      }),
    );
    expect(compose.services.hub.profiles).toBeUndefined();
    expect(compose.services.mosquitto.profiles).toEqual(['mosquitto']);
    const service = compose.services['hub-mosquitto'];
    expect(service.profiles).toEqual(['mosquitto']);
    expect(service.depends_on).toEqual(['mosquitto']);
    const command = service.command as string[];
    expect(command.slice(0, 3)).toEqual(['hub', '--broker', 'mqtt://mosquitto:1883']);
    expect(service.environment).toEqual(['REMONITOR_PASSWORD']);

    // Mosquitto as deploy/mosquitto.conf sets it up: passwords, and deploy/mosquitto.acl.
    const users = { 'remonitor-hub': 'hub-secret', 'via-mosquitto': 'node-secret', intruder: 'intruder-secret' };
    const mosquitto = await startMosquitto({ users, aclFile: join(REPO, 'deploy/mosquitto.acl') });
    // `mosquitto:1883` is the compose service name; here it is the local Mosquitto.
    const args = command.map((a) => a.replace('mqtt://mosquitto:1883', mosquitto.url));
    const stage = runtimeStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    const env = { ...stage.env, REMONITOR_DATA_DIR: tempDir(), REMONITOR_HTTP_PORT: '0', REMONITOR_HOST: '127.0.0.1', REMONITOR_PASSWORD: users['remonitor-hub'] };
    const hub = spawnProcess(process.execPath, [join(REPO, 'bin/remonitor.mjs'), ...args], { env });
    const [, url] = await hub.waitForLine(/dashboard at (http:\/\/\S+)/);
    const admin = await signInAsPrintedAdmin(hub, url!);
    // The intruder writes as via-mosquitto first: Mosquitto drops it (its ACL), so the stored seq is the real node's.
    const intruder = await connectAsync(mosquitto.url, { protocolVersion: 4, username: 'intruder', password: users.intruder });
    cleanup(() => intruder.endAsync());
    await publishNode(intruder, 'via-mosquitto', [sampleAt(99, Date.now() - 2000)]);
    await expect(connectAsync(mosquitto.url, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad username/i);
    const agent = await connectAsync(mosquitto.url, { protocolVersion: 4, username: 'via-mosquitto', password: users['via-mosquitto'] });
    cleanup(() => agent.endAsync());
    await publishNode(agent, 'via-mosquitto', [sampleAt(1, Date.now() - 1000)]);
    await waitFor('via-mosquitto stored', async () => (await admin.getJson('/api/nodes')).body.nodes.some((n: { name: string; latest: unknown }) => n.name === 'via-mosquitto' && n.latest));
    expect((await admin.getJson('/api/nodes/via-mosquitto')).body.sample.seq).toBe(1);
    // The join line tells nodes the broker on the host the browser used, not the compose name.
    const script = await (await fetch(new URL('/install.sh', url))).text();
    expect(script).toMatch(/^DEFAULT_BROKER_URL='mqtt:\/\/127\.0\.0\.1:1883'$/m);
  });
});

describe('install-hub.sh', () => {
  it('installs the hub unit, and its ExecStart serves a healthy hub with data in the state directory', async () => {
    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-hub-root-');
    const run = spawnSync('/bin/sh', [join(REPO, 'deploy/install-hub.sh'), '--prefix', root, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(systemctl.calls()).toEqual(['daemon-reload', 'enable remonitor-hub.service', 'restart remonitor-hub.service']);
    const unit = readFileSync(join(root, 'etc/systemd/system/remonitor-hub.service'), 'utf8');
    const nodeBin = execFileSync('/bin/sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim();
    expect(unit.replaceAll(root, '').replace(`ExecStart=${nodeBin} `, 'ExecStart=/usr/bin/node ')).toBe(readFileSync(join(REPO, 'deploy/remonitor-hub.service'), 'utf8'));

    const hub = startUnit(unit);
    const [, url] = await hub.waitForLine(/dashboard at (http:\/\/\S+)/);
    expect((await getJson(new URL('/healthz', url).href)).body).toEqual({ ok: true });
    // `up` monitors the hub machine itself: its own agent reports, with the token `up` issued it.
    const admin = await signInAsPrintedAdmin(hub, url!);
    await waitFor('the hub machine on its fleet', async () => (await admin.getJson('/api/nodes')).body.nodes.length === 1);
    hub.child.kill('SIGTERM');
    expect((await hub.exited).code).toBe(0);
    expect(hub.output()).toMatch(/data in .*state\/remonitor/);

    const removed = spawnSync('/bin/sh', [join(REPO, 'deploy/install-hub.sh'), '--prefix', root, '--uninstall'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` },
    });
    expect(removed.status).toBe(0);
    expect(systemctl.calls().slice(3)).toEqual(['disable --now remonitor-hub.service', 'daemon-reload']);
  });
});
