// The one-line join, served by a running hub: GET /install.sh comes with this hub filled in, and
// piped into `sh -s -- --node NAME` it downloads the agent from the hub, installs it under a
// temporary root (a fake systemctl on PATH, see test/helpers/fake-systemd.ts, which --prefix must
// not call) and the node reports.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { brokerForNodes, fillInstallScript } from '../../web/deploy-routes.ts';
import { fakeSystemctl, startUnit } from '../helpers/fake-systemd.ts';
import { getJson, REPO, runCleanups, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

/** `curl -fsSL $HUB/install.sh | sh -s -- ARGS`, with the script fetched by the test. */
async function pipeToSh(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = spawn('/bin/sh', ['-s', '--', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(script);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

describe('one-line join', () => {
  it('serves the script with its own address and the bundle; the piped script installs an agent that reports', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url);

    const bundle = await fetch(`${api}/agent/remonitor-agent.mjs`);
    expect(bundle.status).toBe(200);
    expect(Buffer.from(await bundle.arrayBuffer())).toEqual(readFileSync(join(REPO, 'dist/remonitor-agent.mjs')));

    const res = await fetch(`${api}/install.sh`);
    expect(res.status).toBe(200);
    const script = await res.text();
    expect(script).toMatch(new RegExp(`^DEFAULT_HUB_URL='${api}'$`, 'm'));
    expect(script).toMatch(new RegExp(`^DEFAULT_BROKER_URL='${url}'$`, 'm'));

    const systemctl = fakeSystemctl();
    const root = tempDir('remonitor-root-');
    const PATH = `${systemctl.binDir}:${process.env.PATH}`;
    const { code, out } = await pipeToSh(script, ['--node', 'joined-pi', '--token', 'tok', '--prefix', root], { ...process.env, PATH });
    expect(out).toMatch(/installed under \S+ as node "joined-pi"/);
    expect(code).toBe(0);
    expect(systemctl.calls()).toEqual([]); // --prefix leaves the host's systemd alone

    const agent = startUnit(readFileSync(join(root, 'etc/systemd/system/remonitor-agent.service'), 'utf8'));
    await waitFor('joined-pi reports', async () => {
      const { body } = await getJson(`${api}/api/nodes`);
      return body.nodes.find((n: { name: string; status: string }) => n.name === 'joined-pi' && n.status === 'online');
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
    });
    await waitFor('samples from joined-pi', () => hub.ingest.stats.stored >= 2);
  });

  it("tells nodes the broker at the address the browser used when the hub's broker is local", () => {
    expect(brokerForNodes({ brokerUrl: 'mqtt://127.0.0.1:1883' }, 'hub.lan')).toBe('mqtt://hub.lan:1883');
    expect(brokerForNodes({ brokerUrl: 'mqtt://mosquitto:1883' }, 'hub.lan')).toBe('mqtt://mosquitto:1883');
    expect(brokerForNodes({ brokerUrl: 'mqtt://127.0.0.1:1883', publicBrokerUrl: 'mqtts://mq.example.org:8883' }, 'x')).toBe('mqtts://mq.example.org:8883');
    expect(() => fillInstallScript("DEFAULT_HUB_URL=''\n", "http://x'; rm -rf /", 'mqtt://x:1')).toThrow(/not allowed in the install script/);
  });
});
