// The Dockerfile, compose.yaml and the hub's systemd unit, run outside Docker and systemd (neither
// runs here): the image's runtime files laid out as its COPY lines say, started with its exact
// ENTRYPOINT + CMD and ENV, checked with its exact HEALTHCHECK; compose's Mosquitto profile with
// its exact hub command against a real Mosquitto; the `scale` profile's two hubs and web against a
// real Mosquitto and PostgreSQL; install-hub.sh under --prefix with a fake systemctl on PATH that
// it must not call (test/helpers/fake-systemd.ts), then the unit's ExecStart and the `remonitor`
// it puts on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemctl, startUnit } from '../helpers/fake-systemd.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startPostgres } from '../helpers/postgres.ts';
import { connectAsync } from 'mqtt';
import { publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, getJson, REPO, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

/** deploy/compose.yaml as Docker Compose reads it (Debian's python3-yaml, merge keys included). */
function readCompose(): {
  services: Record<string, { profiles?: string[]; depends_on?: string[]; command?: string[]; environment?: string[]; ports?: string[]; volumes?: string[] }>;
} {
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
      input: readFileSync(join(REPO, 'deploy/compose.yaml')),
      encoding: 'utf8',
    }),
  );
}

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
      expect(await fetch(new URL(path, url)).then((r) => r.status), path).toBe(200);
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
    const compose = readCompose();
    expect(compose.services.hub!.profiles).toBeUndefined();
    expect(compose.services.mosquitto!.profiles).toContain('mosquitto');
    const service = compose.services['hub-mosquitto']!;
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
    const env = {
      ...stage.env,
      REMONITOR_DATA_DIR: tempDir(),
      REMONITOR_HTTP_PORT: '0',
      REMONITOR_HOST: '127.0.0.1',
      REMONITOR_PASSWORD: users['remonitor-hub'],
    };
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
    await waitFor('via-mosquitto stored', async () =>
      (await admin.getJson('/api/nodes')).body.nodes.some((n: { name: string; latest: unknown }) => n.name === 'via-mosquitto' && n.latest),
    );
    expect((await admin.getJson('/api/nodes/via-mosquitto')).body.sample.seq).toBe(1);
    // The join line tells nodes the broker on the host the browser used, not the compose name.
    const script = await (await fetch(new URL('/install.sh', url))).text();
    expect(script).toMatch(/^DEFAULT_BROKER_URL='mqtt:\/\/127\.0\.0\.1:1883'$/m);
  });

  it('compose profile scale: two hubs in a shared group and one web, over Mosquitto and PostgreSQL, sharing the logins', async () => {
    const compose = readCompose();
    const scale = Object.entries(compose.services)
      .filter(([, svc]) => svc.profiles?.includes('scale'))
      .map(([name]) => name)
      .sort();
    expect(scale).toEqual(['hub-1', 'hub-2', 'mosquitto', 'postgres', 'web']);
    expect(compose.services.web!.ports).toEqual(['8080:8080']);

    const postgres = await startPostgres();
    cleanup(() => postgres.stop());
    const storage = await postgres.createDatabase();
    const users = { 'remonitor-hub': 'hub-secret', 'scaled-node': 'node-secret' };
    const mosquitto = await startMosquitto({ users, aclFile: join(REPO, 'deploy/mosquitto.acl') });
    const stage = runtimeStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    const authVolume = tempDir(); // remonitor-group, mounted at /data by all three
    // Each service's command and environment as compose gives them, with the .env values filled in
    // and the compose names (mosquitto, postgres) pointing at the servers started here.
    const start = (name: string) => {
      const svc = compose.services[name]!;
      expect(svc.volumes).toEqual(['remonitor-group:/data']);
      const env: Record<string, string> = { ...stage.env, REMONITOR_DATA_DIR: authVolume, REMONITOR_HTTP_PORT: '0', REMONITOR_HOST: '127.0.0.1' };
      for (const entry of svc.environment ?? []) {
        const [key, value] = entry.includes('=') ? [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] : [entry, undefined];
        if (key === 'REMONITOR_PASSWORD') env[key] = users['remonitor-hub'];
        else if (key === 'REMONITOR_STORAGE') {
          expect(value).toBe('postgres://remonitor:${POSTGRES_PASSWORD}@postgres:5432/remonitor');
          env[key] = storage;
        } else throw new Error(`${name}: an environment entry this test does not know: ${entry}`);
      }
      const args = svc.command!.map((a) => a.replace('mqtt://mosquitto:1883', mosquitto.url));
      return spawnProcess(process.execPath, [join(REPO, 'bin/remonitor.mjs'), ...args], { env });
    };
    const hub1 = start('hub-1');
    const [, hub1Url] = await hub1.waitForLine(/dashboard at (http:\/\/\S+)/);
    const hub2 = start('hub-2');
    const [, hub2Url] = await hub2.waitForLine(/dashboard at (http:\/\/\S+)/);
    expect(hub1.output()).toMatch(/in shared group "ingest" as hub-1/);
    expect(hub2.output()).toMatch(/in shared group "ingest" as hub-2/);
    const web = start('web');
    const [, webUrl] = await web.waitForLine(/dashboard at (http:\/\/\S+)/);

    const agent = await connectAsync(mosquitto.url, { protocolVersion: 4, username: 'scaled-node', password: users['scaled-node'] });
    cleanup(() => agent.endAsync());
    const samples = Array.from({ length: 20 }, (_, i) => sampleAt(i, Date.now() - 20_000 + i * 1000));
    await publishNode(agent, 'scaled-node', samples);

    // The admin the first process created is everyone's: one auth.db, one cookie secret.
    const viaWeb = await signInAsPrintedAdmin(hub1, webUrl!);
    await waitFor('scaled-node stored through the web', async () => (await viaWeb.getJson('/api/nodes/scaled-node')).body.sample?.seq === 19);
    const counters = await Promise.all(
      [hub1Url!, hub2Url!].map(async (url) => {
        const admin = await signInAsPrintedAdmin(hub1, url);
        const text = await admin.getText('/metrics');
        return Number(/^remonitor_hub_samples_stored_total (\S+)$/m.exec(text)?.[1]);
      }),
    );
    expect(counters[0]! + counters[1]!).toBe(20);
    expect(Math.min(...counters)).toBeGreaterThan(0); // the group shared the stream
  });
});

describe('install-hub.sh', () => {
  it("installs the hub unit and `remonitor` on PATH, leaves the host's systemd alone, and its ExecStart serves a healthy hub", async () => {
    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-hub-root-');
    const run = spawnSync('/bin/sh', [join(REPO, 'deploy/install-hub.sh'), '--prefix', root, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/installed under \S+; the host's systemd was left alone \(--prefix\)/);
    expect(run.stdout).toMatch(/enrol a node: sudo remonitor node add NAME/);
    expect(systemctl.calls()).toEqual([]);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/remonitor-hub.service'))).toBe('../remonitor-hub.service');
    const unit = readFileSync(join(root, 'etc/systemd/system/remonitor-hub.service'), 'utf8');
    const nodeBin = execFileSync('/bin/sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim();

    // `remonitor` on PATH enrols nodes into the installed hub's data directory, with no --data-dir.
    const cli = join(root, 'usr/local/bin/remonitor');
    const added = spawnSync(cli, ['node', 'add', 'garden-pi'], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/enrolled node "garden-pi"/);
    expect(existsSync(join(root, 'var/lib/remonitor/auth.db'))).toBe(true);
    expect(unit.replaceAll(root, '').replace(`ExecStart=${nodeBin} `, 'ExecStart=/usr/bin/node ')).toBe(
      readFileSync(join(REPO, 'deploy/remonitor-hub.service'), 'utf8'),
    );

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
    expect(systemctl.calls()).toEqual([]);
    for (const f of [
      'opt/remonitor-hub',
      'usr/local/bin/remonitor',
      'etc/systemd/system/remonitor-hub.service',
      'etc/systemd/system/multi-user.target.wants',
    ]) {
      expect(existsSync(join(root, f)), f).toBe(false);
    }
  });
});
