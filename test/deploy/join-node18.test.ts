// The README's one-line join on the Node.js that Raspberry Pi OS and Debian 12 ship: Debian
// bookworm's own nodejs 18 (fetched by scripts/fetch-debian-node18.sh) is the only `node` on the
// node's PATH, this machine's Node 20 left out of it. A `remonitor up` hub on its secure defaults
// enrols the node; the line its "Add a node" dialog shows, run with curl and sh (plus --prefix,
// so this host is left alone), installs an agent whose unit runs the bundle on that Node 18, and
// its samples reach the hub. The same line refuses an older Node.js and says what to install.
// systemd cannot run here: startUnit (test/helpers/fake-systemd.ts) starts the unit's ExecStart as
// systemd would. If Debian's Node 18 cannot be fetched, this fails; it never skips.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinLine } from '../../web/client/add-node.ts';
import { startUnit, unitKeys } from '../helpers/fake-systemd.ts';
import { debianNode18, FETCH_NODE18_TIMEOUT_MS } from '../helpers/debian-node18.ts';
import { CLI, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

let node18 = '';
beforeAll(() => {
  node18 = debianNode18();
}, FETCH_NODE18_TIMEOUT_MS);

// systemd's default PATH for services, which a login shell on a Pi has too.
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A folder of links to every command on SYSTEM_PATH except Node.js: this machine as a Pi before `apt install nodejs`. */
function systemBinWithoutNode(): string {
  const bin = join(tempDir('remonitor-no-node-'), 'bin');
  mkdirSync(bin);
  const seen = new Set(['node', 'nodejs']);
  for (const dir of SYSTEM_PATH.split(':')) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

/** A folder holding only `node`: a link to `target`, or a shell script. */
function nodeFolder(node: { link: string } | { script: string }): string {
  const bin = join(tempDir('remonitor-node-bin-'), 'bin');
  mkdirSync(bin);
  if ('link' in node) symlinkSync(node.link, join(bin, 'node'));
  else {
    writeFileSync(join(bin, 'node'), node.script);
    chmodSync(join(bin, 'node'), 0o755);
  }
  return bin;
}

function shOutput(command: string, PATH: string): string {
  return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, PATH } }).trim();
}

/** The join line as a person pastes it into the node's shell, with --prefix appended. */
async function runJoinLine(line: string, prefix: string, PATH: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('/bin/sh', ['-c', `${line} --prefix ${prefix}`], { env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

/** `remonitor up` on a new data directory, on its secure defaults (the hub runs on this machine's Node 20). */
async function upHub() {
  const dataDir = tempDir();
  const up = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  const [, dashboard, mqttUrl] = await up.waitForLine(/dashboard at (http:\/\/\S+)\s+\(MQTT at (mqtt:\/\/\S+?),/);
  return { up, dataDir, dashboard: dashboard!, mqttUrl: mqttUrl! };
}

describe("the one-line join on Debian bookworm's Node.js 18", () => {
  it("installs with Debian's Node 18 as the only node, the unit runs the bundle on it, and its samples reach the hub", async () => {
    const noNode = systemBinWithoutNode();
    expect(shOutput('command -v node || echo none', noNode)).toBe('none'); // Node 20 is out of reach
    const node18Bin = nodeFolder({ link: node18 });
    const PATH = `${node18Bin}:${noNode}`;
    expect(shOutput('command -v node', PATH)).toBe(join(node18Bin, 'node'));
    const version = shOutput('node -p process.versions.node', PATH);
    expect(version).toMatch(/^18\.(1[5-9]|[2-9]\d)\.\d+$/);

    const { up, dashboard, mqttUrl } = await upHub();
    const admin = await signInAsPrintedAdmin(up, dashboard);
    const enrolled = await admin.postJson('/api/enrolments', { node: 'kitchen-pi' });
    expect(enrolled.status).toBe(201);
    const line = joinLine(new URL(dashboard).origin, 'kitchen-pi', enrolled.body.token);
    expect(line).toBe(`curl -fsSL ${new URL(dashboard).origin}/install.sh | sh -s -- --node kitchen-pi --token ${enrolled.body.token}`);

    const root = tempDir('remonitor-root-');
    const { code, out } = await runJoinLine(line, root, PATH);
    expect(out).toContain(`the agent will run on Node.js ${version} (${join(node18Bin, 'node')})`);
    expect(out).toContain(`installed under ${root} as node "kitchen-pi", publishing to ${mqttUrl};`);
    expect(out).not.toMatch(/warning/i);
    expect(code).toBe(0);

    const unit = readFileSync(join(root, 'etc/systemd/system/remonitor-agent.service'), 'utf8');
    const exec = unitKeys(unit).get('ExecStart')!.split(' ');
    expect(exec[0]).toBe(join(node18Bin, 'node'));
    expect(exec).toContain(join(root, 'opt/remonitor/remonitor-agent.cjs'));
    // systemd gives the service its default PATH, where on a Pi `node` is Debian's too.
    const agent = startUnit(unit, { PATH });
    const row = await waitFor(
      'kitchen-pi online with samples',
      async () => {
        if (agent.child.exitCode !== null) throw new Error(`the installed agent exited with ${agent.child.exitCode}`);
        const { body } = await admin.getJson('/api/nodes/kitchen-pi');
        return body.status === 'online' && body.latest !== null && body.info ? body : null;
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    expect(row.info).toMatchObject({ agent_version: expect.any(String), interval_ms: 1000 });

    // The process the unit started is Debian's node binary (the wrapper execs it), with the unit's flags.
    const debianBinary = execFileSync(node18, ['-p', 'process.execPath'], { encoding: 'utf8' }).trim();
    expect(readlinkSync(`/proc/${agent.child.pid}/exe`)).toBe(debianBinary);
    const cmdline = readFileSync(`/proc/${agent.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(cmdline).toEqual([
      debianBinary,
      ...exec.slice(1, exec.indexOf('--config') + 1),
      expect.stringMatching(/\/agent\.json$/),
      '--spool-dir',
      expect.stringMatching(/\/spool$/),
    ]);

    await waitFor('3 samples in the series', async () => {
      const { body } = await admin.getJson('/api/nodes/kitchen-pi/series?metrics=cpu_pct&from=-5m');
      return body.data[0].length >= 3;
    });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(agent.output()).not.toMatch(/"level":(40|50|60)/); // no warning, error or fatal in the journal
    expect(agent.output()).not.toMatch(/\(node:\d+\) \w*Warning/); // nor one from Node 18 itself
  });

  it("refuses a Node.js older than 18.15.0, or none, and says to install Debian's", async () => {
    const { dataDir, dashboard, mqttUrl } = await upHub();
    const { port } = new URL(dashboard);
    const added = spawnProcess(process.execPath, [
      CLI,
      'node',
      'add',
      'old-pi',
      '--data-dir',
      dataDir,
      '--hub-host',
      '127.0.0.1',
      '--http-port',
      port,
      '--mqtt-port',
      new URL(mqttUrl).port,
    ]);
    expect((await added.exited).code).toBe(0);
    const line = /^\s*(curl -fsSL \S+\/install\.sh \| sh -s -- .*)$/m.exec(added.output())![1]!;
    expect(line).toMatch(new RegExp(`^curl -fsSL http://127\\.0\\.0\\.1:${port}/install\\.sh \\| sh -s -- --node old-pi --token rmt_\\S+$`));
    const noNode = systemBinWithoutNode();

    // 18.14.0: just below the minimum; 18.13.0: what Debian 12 came out with.
    for (const old of ['18.14.0', '18.13.0']) {
      // A fake node: answers the script's version question, runs nothing.
      const fakeNode = nodeFolder({
        script: `#!/bin/sh\n# fake node for tests: an old Node.js ${old}\ncase "$*" in *process.versions.node*) echo ${old} ;; *) echo v${old} ;; esac\n`,
      });
      const root = tempDir('remonitor-root-');
      const { code, out } = await runJoinLine(line, root, `${fakeNode}:${noNode}`);
      expect(code, out).toBe(1);
      expect(out).toContain(`remonitor install: the agent needs Node.js 18.15.0 or newer; ${join(fakeNode, 'node')} is version ${old}. Upgrade it:`);
      expect(out).toMatch(/Raspberry Pi OS, Debian 12 \(bookworm\), Ubuntu 24\.04: sudo apt install nodejs/);
      expect(out).toMatch(/run sudo apt update first: Debian 12 came out with Node\.js 18\.13, too old/);
      expect(readdirSync(root)).toEqual([]); // nothing installed
    }

    const root = tempDir('remonitor-root-');
    const missing = await runJoinLine(line, root, noNode);
    expect(missing.code, missing.out).toBe(1);
    expect(missing.out).toMatch(/the agent needs Node\.js 18\.15\.0 or newer, and `node` is not on PATH\. Install it:\n.*sudo apt install nodejs/);
    expect(readdirSync(root)).toEqual([]);
  });
});
