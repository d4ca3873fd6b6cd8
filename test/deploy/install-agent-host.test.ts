// deploy/install-agent.sh with no --prefix, on a fake host (test/deploy/fake-host.ts: a private
// mount namespace whose /etc, /opt, /var/lib and /run are temporary folders): with systemd running
// it asks systemctl (a fake that records its calls); with systemctl installed but systemd not
// running (a container, a CI runner) it starts nothing, says so and how to run the agent, and that
// line works; with --foreground it runs the agent itself. Each agent reports to a real hub.
import { readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemctl, startUnit } from '../helpers/fake-systemd.ts';
import { getJson, REPO, runCleanups, startBroker, startHub, waitFor, type Spawned } from '../helpers/parts.ts';
import { fakeHost } from './fake-host.ts';

afterEach(runCleanups);

const SCRIPT = `${REPO}deploy/install-agent.sh`;
const BUNDLE = `${REPO}dist/remonitor-agent.mjs`;

async function reports(api: string, node: string, agent: Spawned): Promise<void> {
  await waitFor(`${node} online with samples`, async () => {
    if (agent.child.exitCode !== null) throw new Error(`the agent exited with ${agent.child.exitCode}`);
    const { body } = await getJson(`${api}/api/nodes`);
    const row = body.nodes.find((n: { name: string }) => n.name === node);
    return row?.status === 'online' && row.latest !== null;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
  });
}

describe('install-agent.sh on a host', () => {
  it('with systemd running: installs, enables and restarts the unit through systemctl, and --uninstall removes it', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const host = fakeHost({ systemdRunning: true });
    const systemctl = fakeSystemctl();
    const env = { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` };
    const run = host.run(['/bin/sh', SCRIPT, '--bundle', BUNDLE, '--broker', url, '--node', 'host-pi', '--token', 'tok'], env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/installed as node "host-pi".*\n.*journalctl -u remonitor-agent -f/);
    expect(systemctl.calls()).toEqual(['daemon-reload', 'enable remonitor-agent.service', 'restart remonitor-agent.service']);
    expect(JSON.parse(readFileSync(host.outside('/etc/remonitor/agent.json'), 'utf8'))).toMatchObject({ node: 'host-pi', password: 'tok' });

    const agent = startUnit(host.outsideText(readFileSync(host.outside('/etc/systemd/system/remonitor-agent.service'), 'utf8')));
    await reports(api, 'host-pi', agent);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    const removed = host.run(['/bin/sh', SCRIPT, '--uninstall'], env);
    expect(removed.status).toBe(0);
    expect(systemctl.calls().slice(3)).toEqual(['disable --now remonitor-agent.service', 'daemon-reload']);
    expect(() => readFileSync(host.outside('/etc/systemd/system/remonitor-agent.service'))).toThrow(/ENOENT/);
  });

  it('with systemctl but no running systemd: starts nothing, enables the unit for a later boot, and the command it prints runs the agent', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const host = fakeHost({ systemdRunning: false });
    const systemctl = fakeSystemctl(); // installed, as in many containers; it must not be asked
    const env = { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` };
    const run = host.run(['/bin/sh', SCRIPT, '--bundle', BUNDLE, '--broker', url, '--node', 'box-pi', '--interval', '500ms'], env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/systemd is not running here\n\(a container, a chroot or a CI runner\?\), so no service was started/);
    expect(run.stdout).toMatch(/or run this script again with --foreground/);
    expect(systemctl.calls()).toEqual([]);
    expect(readlinkSync(host.outside('/etc/systemd/system/multi-user.target.wants/remonitor-agent.service'))).toBe('../remonitor-agent.service');

    const line = /run the agent now, in the foreground: (.*)$/m.exec(run.stdout)![1]!;
    expect(line).toMatch(
      /^\S*node \/opt\/remonitor\/remonitor-agent\.cjs --config \/etc\/remonitor\/agent\.json --spool-dir \/var\/lib\/remonitor-agent\/spool$/,
    );
    const agent = host.spawn(line.split(' '), env);
    await reports(api, 'box-pi', agent);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });

  it('with --foreground: installs the bundle and config, then runs the agent until SIGTERM', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const host = fakeHost({ systemdRunning: false });
    const systemctl = fakeSystemctl();
    const env = { ...process.env, PATH: `${systemctl.binDir}:${process.env.PATH}` };
    const agent = host.spawn(['/bin/sh', SCRIPT, '--bundle', BUNDLE, '--broker', url, '--node', 'ci-runner', '--interval', '500ms', '--foreground'], env);
    await agent.waitForLine(/running it in the foreground \(Ctrl-C stops it\)/);
    await reports(api, 'ci-runner', agent);
    agent.child.kill('SIGTERM'); // the script exec'd the agent: the signal reaches it
    expect((await agent.exited).code).toBe(0);
    // The installer enables nothing in the foreground; the agent's own services collector only lists units.
    expect(systemctl.calls().filter((call) => !call.startsWith('list-units'))).toEqual([]);
    expect(() => readFileSync(host.outside('/etc/systemd/system/remonitor-agent.service'))).toThrow(/ENOENT/);
    expect(readFileSync(host.outside('/var/lib/remonitor-agent/spool/spool.json'), 'utf8')).toMatch(/"boot"/);
  });
});
