// JSON samples as a person and a board send them, against `remonitor up` with its secure defaults:
// PROTOCOL.md's mosquitto_pub line run as written (Debian's mosquitto_pub), and
// examples/micropython's CPython twin (Debian's python3-paho-mqtt 1.6) sending what main.py sends
// on an ESP32. Each is enrolled with `remonitor node add`, and the hub must store what it sent.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAck, topics, type Ack, type Sample } from '../../protocol/index.ts';
import { CLI, REPO, cleanup, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor, type SignedIn, type Spawned } from '../helpers/parts.ts';

afterAll(runCleanups);

const PROTOCOL = readFileSync(join(REPO, 'PROTOCOL.md'), 'utf8');

let dataDir: string;
let hub: Spawned;
let admin: SignedIn;
let mqttPort: string;

/** Enrols a node as the docs say, and returns the token it printed. */
function nodeAdd(name: string): string {
  const out = execFileSync(process.execPath, [CLI, 'node', 'add', name, '--data-dir', dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return /shown only now:\s+(\S+)/.exec(out)![1]!;
}

interface NodeDetail {
  status: string;
  sample: Sample | null;
}
const detail = async (node: string) => (await admin.getJson<NodeDetail>(`/api/nodes/${node}`)).body;
const series = async (node: string, metrics: string) => (await admin.getJson(`/api/nodes/${node}/series?metrics=${metrics}&from=-1h`)).body.data as number[][];

beforeAll(async () => {
  dataDir = tempDir();
  hub = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir]);
  const [, dashboard, mqttUrl] = await hub.waitForLine(/dashboard at (http:\/\/\S+)\s+\(MQTT at (mqtt:\/\/\S+?),/);
  mqttPort = new URL(mqttUrl!).port;
  admin = await signInAsPrintedAdmin(hub, dashboard!);
});

describe('JSON samples as documented', () => {
  it("PROTOCOL.md's mosquitto_pub line stores a sample under an identity the hub assigns", async () => {
    const section = PROTOCOL.split('### Sending one by hand\n')[1];
    const command = section && /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(command, 'a ```sh block under "### Sending one by hand"').toBeTruthy();
    const token = nodeAdd('esp-hand');
    const filled = command!.replaceAll('HUB', '127.0.0.1').replaceAll('1883', mqttPort).replaceAll('NODE', 'esp-hand').replaceAll('TOKEN', token);
    execFileSync('bash', ['-euo', 'pipefail', '-c', filled], { encoding: 'utf8', timeout: 30_000 });

    const stored = await waitFor('the sample stored', async () => (await detail('esp-hand'))?.sample);
    expect(stored).toMatchObject({ v: 1, seq: 0, cpu_pct: 12.5, mem_pct: 40 });
    expect(stored.boot).toMatch(/^hub-[0-9a-f]{12}$/);
    expect(Date.now() - stored.ts_ms).toBeLessThan(60_000); // no ts_ms: stored at its arrival
    await hub.waitForLine(/assigns them/, 10_000);
  });

  it('the MicroPython twin: samples stored as sent, byte for byte what it printed, acked, and its last will when killed', async () => {
    const token = nodeAdd('esp-twin');
    const made = execFileSync(process.execPath, [CLI, 'client', 'add', 'json-watcher', '--role', 'viewer', '--data-dir', dataDir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watcher = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'json-watcher',
      password: /shown only now:\s+(\S+)/.exec(made)![1]!,
      protocolVersion: 4,
    });
    cleanup(() => watcher.endAsync());
    const onWire: string[] = [];
    const acks: Ack[] = [];
    watcher.on('message', (topic, payload) => (topic === topics.json('esp-twin') ? onWire.push(payload.toString('utf8')) : acks.push(decodeAck(payload))));
    await watcher.subscribeAsync([topics.json('esp-twin'), topics.ack('esp-twin')], { qos: 1 });

    const COUNT = 4;
    const twin = spawnProcess(
      '/usr/bin/python3',
      [
        '-u',
        'cpython_twin.py',
        '--host',
        '127.0.0.1',
        '--port',
        mqttPort,
        '--node',
        'esp-twin',
        '--token',
        token,
        '--interval',
        '0.3',
        '--count',
        String(COUNT),
      ],
      { cwd: join(REPO, 'examples/micropython') },
    );
    const [, boot] = await twin.waitForLine(/boot ([0-9a-f]{16})/);
    await waitFor(
      `${COUNT} samples printed`,
      () =>
        twin
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{')).length >= COUNT,
    );
    const printed = twin
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const sent = printed.map((l) => JSON.parse(l) as Record<string, unknown>);

    const [, memPct, memUsed, temp, uptime] = await waitFor(`${COUNT} samples stored`, async () => {
      const data = await series('esp-twin', 'mem_pct,mem_used_bytes,temp_c,uptime_s');
      return data[0]!.length >= COUNT ? data : null;
    });
    expect(memPct).toEqual(sent.map((s) => s.mem_pct));
    expect(memUsed).toEqual(sent.map((s) => s.mem_used_bytes));
    expect(temp).toEqual(sent.map((s) => s.temp_c));
    expect(uptime).toEqual(sent.map((s) => s.uptime_s));
    expect(sent.map((s) => [s.boot, s.seq])).toEqual([0, 1, 2, 3].map((seq) => [boot, seq]));

    const latest = await detail('esp-twin');
    expect(latest.status).toBe('online');
    expect(latest.sample).toMatchObject({
      boot,
      seq: COUNT - 1,
      series: [{ name: 'wifi_rssi_dbm', labels: { ssid: 'twin' }, value: (sent[COUNT - 1]!.series as unknown[][])[0]![2] }],
    });
    expect(onWire).toEqual(printed);
    // Sent with an identity: acked as a CBOR agent is (the hub acks at most every 5 s).
    await waitFor('the ack of every sample', () => acks.some((a) => a.boot === boot && a.next === COUNT), 15_000);

    twin.child.kill('SIGKILL');
    await waitFor('offline by its last will', async () => (await detail('esp-twin')).status === 'offline', 15_000);
    expect(hub.output()).not.toMatch(/dropped a malformed message/);
  });
});
