// --public-url: the address people reach the dashboard at goes into alarm notifications' links.
// A real `remonitor up` with a rule that fires at once, a real MQTT client, a webhook receiver here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample, topics } from '../../protocol/index.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { CLI, cleanup, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);

describe('--public-url', () => {
  it('puts the node page at that address into the notification', async () => {
    const hook = await startWebhookReceiver();
    const dataDir = tempDir();
    mkdirSync(dataDir, { recursive: true });
    const rule = { id: 'cpu-any', metric: 'cpu_pct', threshold: 1, for: '0s', window: '1s', horizon: '0', notify: { channels: [hook.url], group_wait: '0s' } };
    writeFileSync(join(dataDir, 'alarm-rules.json'), JSON.stringify({ version: 1, rules: [rule] }));
    const mqttPort = await freePort();
    const up = spawnProcess(process.execPath, [
      CLI,
      'up',
      '--insecure',
      '--no-agent',
      '--http-port',
      '0',
      '--mqtt-port',
      String(mqttPort),
      '--data-dir',
      dataDir,
      '--public-url',
      'https://monitor.example/',
    ]);
    await up.waitForLine(/dashboard at/);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'pi-1', reconnectPeriod: 0 });
    cleanup(() => client.endAsync());
    await client.publishAsync(topics.status('pi-1'), 'online', { qos: 1, retain: true });
    for (let seq = 0; seq < 3; seq++) {
      await client.publishAsync(topics.metrics('pi-1'), Buffer.from(encodeSample({ v: 1, boot: 'b', seq, ts_ms: Date.now(), cpu_pct: 90 })), { qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
    }
    const call = await waitFor('the notification', () => hook.calls.find((c) => JSON.stringify(c).includes('pi-1')), 20_000);
    expect(JSON.stringify(call)).toContain('https://monitor.example/nodes/pi-1');
  }, 60_000);
});
