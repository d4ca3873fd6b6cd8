// deploy/install-agent.sh against a temporary root (--prefix), then the agent it installed, run
// with the exact command line of the installed unit, reporting to a real hub. systemd cannot run
// here: a fake `systemctl` records what the script asked of it (with --prefix: nothing, the host's
// systemd is left alone), and test/helpers/fake-systemd.ts starts the unit's ExecStart the way
// systemd would (credentials directory and all). Without --prefix: install-agent-host.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemctl, startUnit, unitKeys } from '../helpers/fake-systemd.ts';
import { getJson, REPO, runCleanups, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const SCRIPT = join(REPO, 'deploy/install-agent.sh');
const BUNDLE = join(REPO, 'dist/remonitor-agent.mjs');

function install(args: string[], path: string) {
  return spawnSync('/bin/sh', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, PATH: path } });
}

describe('install-agent.sh', () => {
  it("installs config and unit under --prefix without touching the host's systemd, and the installed agent reports to a real hub", async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url);
    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-root-');
    const PATH = `${systemctl.binDir}:${process.env.PATH}`;
    const run = install(['--prefix', root, '--bundle', BUNDLE, '--broker', url, '--node', 'pi-installed', '--token', 'tok-123', '--interval', '500ms'], PATH);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/installed under \S+ as node "pi-installed", publishing to mqtt:\/\/127\.0\.0\.1:\d+; the host's systemd was left alone/);

    const conf = join(root, 'etc/remonitor/agent.json');
    expect(JSON.parse(readFileSync(conf, 'utf8'))).toEqual({
      broker: url,
      node: 'pi-installed',
      username: 'pi-installed',
      password: 'tok-123',
      interval: '500ms',
    });
    expect(statSync(conf).mode & 0o777).toBe(0o600); // the token: root only, handed to the service by systemd
    expect(readFileSync(join(root, 'opt/remonitor/remonitor-agent.cjs'))).toEqual(readFileSync(BUNDLE));
    const unit = readFileSync(join(root, 'etc/systemd/system/remonitor-agent.service'), 'utf8');
    const keys = unitKeys(unit);
    expect(keys.get('Restart')).toBe('on-failure');
    expect(keys.get('After')).toBe('network-online.target');
    expect(keys.get('Wants')).toBe('network-online.target');
    expect(keys.get('DynamicUser')).toBe('yes');
    expect(keys.get('LoadCredential')).toBe(`agent.json:${conf}`);
    expect(systemctl.calls()).toEqual([]);
    // Enabled inside the prefix, as `systemctl --root enable` would: an image made from it starts the agent.
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/remonitor-agent.service'))).toBe('../remonitor-agent.service');

    // The unit shipped in deploy/ is the one the script writes, for the default root and /usr/bin/node.
    const nodeBin = execFileSync('/bin/sh', ['-c', 'command -v node'], { encoding: 'utf8', env: { PATH } }).trim();
    const normalized = unit.replaceAll(root, '').replace(`ExecStart=${nodeBin} `, 'ExecStart=/usr/bin/node ');
    expect(normalized).toBe(readFileSync(join(REPO, 'deploy/remonitor-agent.service'), 'utf8'));
    const verify = spawnSync('systemd-analyze', ['verify', join(root, 'etc/systemd/system/remonitor-agent.service')], { encoding: 'utf8' });
    if (!verify.error) expect(verify.stderr, 'systemd-analyze verify').toBe('');

    // Run what systemd would run, and see the node report.
    const agent = startUnit(unit);
    await waitFor('pi-installed online with samples', async () => {
      if (agent.child.exitCode !== null) throw new Error(`the installed agent exited:\n${agent.output()}`);
      const { body } = await getJson(`${api}/api/nodes`);
      const node = body.nodes.find((n: { name: string }) => n.name === 'pi-installed');
      return node?.status === 'online' && node.latest !== null;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    await waitFor('3 samples stored', () => hub.ingest.stats.stored >= 3);
    // Not a terminal (as under systemd): structured JSON log lines for the journal.
    const firstLog = agent
      .output()
      .split('\n')
      .find((l) => l.startsWith('{'));
    expect(JSON.parse(firstLog!)).toMatchObject({ level: expect.any(Number), msg: expect.any(String) });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    // Re-running upgrades in place: same files rewritten.
    const again = install(['--prefix', root, '--bundle', BUNDLE, '--broker', url, '--node', 'pi-renamed'], PATH);
    expect(again.status).toBe(0);
    expect(JSON.parse(readFileSync(conf, 'utf8'))).toEqual({ broker: url, node: 'pi-renamed' });

    // --uninstall removes what it installed, the enabling link too.
    const removed = install(['--prefix', root, '--uninstall'], PATH);
    expect(removed.status).toBe(0);
    expect(systemctl.calls()).toEqual([]);
    for (const f of ['etc/remonitor', 'opt/remonitor', 'etc/systemd/system/remonitor-agent.service', 'etc/systemd/system/multi-user.target.wants']) {
      expect(existsSync(join(root, f)), f).toBe(false);
    }
  });

  it('says plainly when node is missing or too old, what to install on Raspberry Pi OS, and what an armv6 board can use', () => {
    // A PATH with only what the script runs, and no node on it (then a stand-in for one).
    const bin = join(tempDir('remonitor-nonode-'), 'bin');
    mkdirSync(bin);
    for (const tool of ['id', 'mkdir', 'mktemp', 'cp', 'rm'])
      symlinkSync(execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    const root = tempDir('remonitor-root-');
    const args = ['--prefix', root, '--bundle', BUNDLE, '--node', 'old-pi'];
    const missing = install(args, bin);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/the agent needs Node\.js 18\.15\.0 or newer, and `node` is not on PATH/);
    expect(missing.stderr).toMatch(/Raspberry Pi OS, Debian 12 \(bookworm\), Ubuntu 24\.04: sudo apt install nodejs/);
    expect(missing.stderr).toMatch(/deb\.nodesource\.com\/setup_22\.x/);
    expect(missing.stderr).toMatch(
      /Pi Zero \/ Pi 1 \(armv6l\).*\n.*https:\/\/unofficial-builds\.nodejs\.org\/download\/release\/ \(node-v22\.\*-linux-armv6l\.tar\.xz/,
    );

    // A stand-in for a Node.js of a given version, which cannot run the bundle's syntax check.
    const withNode = (version: string) => {
      writeFileSync(join(bin, 'node'), `#!/bin/sh\n# a stand-in for Node.js ${version}\ncase "$1" in -p) echo ${version} ;; *) exit 1 ;; esac\n`);
      chmodSync(join(bin, 'node'), 0o755);
      return install(args, bin);
    };
    // Major, minor and patch compared as numbers (18.9 is older than 18.15).
    for (const version of ['18.14.1', '18.9.0', '17.9.1', '16.20.2', 'unknown']) {
      const old = withNode(version);
      expect(old.status, version).toBe(1);
      expect(old.stderr, version).toMatch(
        new RegExp(`the agent needs Node\\.js 18\\.15\\.0 or newer; .*node is version ${version}\\. Upgrade it:\\n.*sudo apt install nodejs`),
      );
    }
    for (const version of ['18.15.0', '18.20.4', '20.0.0', '22.11.0']) {
      const enough = withNode(version);
      expect(enough.stderr, version).not.toMatch(/needs Node\.js/);
      expect(enough.stderr, version).toMatch(/the agent bundle does not parse/); // got past the version check
    }
  });

  it('refuses bad values before writing anything', () => {
    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-root-');
    const PATH = `${systemctl.binDir}:${process.env.PATH}`;
    const cases: [string[], RegExp][] = [
      [['--node', 'bad name'], /--node "bad name": allowed are A-Z a-z 0-9 \. _ -/],
      [['--broker', 'http://hub'], /--broker "http:\/\/hub": must be an mqtt:\/\//],
      [['--bogus'], /unknown option "--bogus"/],
      [['--node'], /--node needs a value/],
    ];
    for (const [args, message] of cases) {
      const run = install(['--prefix', root, '--bundle', BUNDLE, ...args], PATH);
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    const noSource = install(['--prefix', root], PATH);
    expect(noSource.stderr).toMatch(/--hub http:\/\/HUB:8080 \(downloads it\) or --bundle FILE/);
    expect(existsSync(join(root, 'etc/remonitor'))).toBe(false);
    expect(systemctl.calls()).toEqual([]);
  });
});
