// Removing a node from a real `remonitor up` on its secure default, with two real agents: one
// removed through the API with its data kept, one with `remonitor node remove --purge` while the hub
// runs. Each agent is refused when it reconnects, its alarms are cleared (its last will, "offline",
// raises none), its data is kept or gone as asked, and neither node comes back after a restart.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCleanups, spawnProcess, tempDir, waitFor, type Spawned } from '../helpers/parts.ts';

afterEach(runCleanups);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function startUp(dataDir: string): Promise<{ up: Spawned; dashboard: string; mqttUrl: string }> {
  const up = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  const [, dashboard, mqttUrl] = await up.waitForLine(/dashboard at (http:\/\/\S+)\s+\(MQTT at (mqtt:\/\/\S+?),/);
  return { up, dashboard: dashboard!, mqttUrl: mqttUrl! };
}

describe('removing a node', () => {
  it('revokes it, clears its alarms, keeps or purges its data, and holds across a restart', async () => {
    const dataDir = tempDir();
    let { up, dashboard, mqttUrl } = await startUp(dataDir);
    const adminToken = /token \(shown once\): (\S+)/.exec(cli('token', 'add', 'ops', '--role', 'admin', '--data-dir', dataDir).stdout)![1]!;
    const api = async (method: string, path: string) => {
      const res = await fetch(new URL(path, dashboard), { method, headers: { authorization: `Bearer ${adminToken}` } });
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
    };
    const agents = new Map<string, Spawned>();
    for (const node of ['keep-pi', 'purge-pi']) {
      const token = /\n\s+(rmt_\S+)\n/.exec(cli('node', 'add', node, '--data-dir', dataDir).stdout)![1]!;
      agents.set(
        node,
        spawnProcess(process.execPath, [
          CLI,
          'agent',
          '--broker',
          mqttUrl,
          '--node',
          node,
          '--username',
          node,
          '--password',
          token,
          '--interval',
          '250ms',
          '--spool-dir',
          tempDir(),
          '--log-level',
          'warn',
        ]),
      );
    }
    const listed = async () => ((await api('GET', '/api/nodes')).body.nodes as { name: string }[]).map((n) => n.name);
    const exported = async (node: string) => (await api('GET', `/api/nodes/${node}/export?format=json&from=-1h`)).body as unknown[];
    await waitFor(
      'both nodes stored',
      async () => (await listed()).length === 2 && (await exported('keep-pi')).length > 0 && (await exported('purge-pi')).length > 0,
      20_000,
    );

    // Through the API, data kept.
    expect((await api('DELETE', '/api/nodes/keep-pi?purge=maybe')).status).toBe(400);
    expect((await api('DELETE', '/api/nodes/nobody')).status).toBe(404);
    const removed = await api('DELETE', '/api/nodes/keep-pi');
    expect(removed).toMatchObject({ status: 200, body: { node: 'keep-pi', purged: false, deleted: 0, revoked: true } });
    expect(await listed()).toEqual(['purge-pi']);
    // The broker ends the revoked session and refuses the agent's reconnect.
    await agents.get('keep-pi')!.waitForLine(/refused/i);
    expect((await exported('keep-pi')).length).toBeGreaterThan(0);

    // Through the CLI, while the hub runs, data purged; an unknown node is a clear error.
    const unknown = cli('node', 'remove', 'nobody', '--data-dir', dataDir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no node named "nobody" is enrolled in .*auth\.db or has reported to .*remonitor\.db/);
    const byCli = cli('node', 'remove', 'purge-pi', '--purge', '--data-dir', dataDir);
    expect(byCli.status, byCli.stderr).toBe(0);
    expect(byCli.stdout).toMatch(/removed node "purge-pi", its data to be purged/);
    await waitFor('purge-pi gone from the fleet', async () => (await listed()).length === 0);
    await agents.get('purge-pi')!.waitForLine(/refused/i);
    await waitFor('purge-pi purged', async () => (await exported('purge-pi')).length === 0);

    // Both agents are gone now (their last will said "offline"): no alarm of theirs is active.
    const alarms = (await api('GET', '/api/alarms')).body as { alarms: { node: string }[] };
    expect(alarms.alarms.filter((a) => a.node === 'keep-pi' || a.node === 'purge-pi')).toEqual([]);

    // A restart reads the retained topics and the database again: neither node comes back.
    for (const agent of agents.values()) {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
    up.child.kill('SIGTERM');
    await up.exited;
    ({ up, dashboard, mqttUrl } = await startUp(dataDir));
    expect(await listed()).toEqual([]);
    expect((await exported('keep-pi')).length).toBeGreaterThan(0);
    expect((await api('GET', '/api/alarms')).body.alarms.filter((a: { node: string }) => a.node.endsWith('-pi'))).toEqual([]);
  }, 90_000);
});
