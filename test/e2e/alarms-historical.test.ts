// Replayed backlog must not raise alarms: two nodes send the same CPU over the threshold through
// the real broker and hub, one as live samples, one marked historical (as the agent's spool
// replays them). Only the live one goes RED.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { encodeSample, topics } from '../../protocol/index.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('alarms and replayed samples', () => {
  it('judge live samples only', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'alarm-rules.json'),
      JSON.stringify({ version: 1, rules: [{ id: 'cpu', metric: 'cpu_pct', threshold: 80, for: '1s', window: '500ms', horizon: '1h', trend_window: '3s' }] }),
    );
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, alarms: { tickMs: 100, minStaleMs: 60_000, notifier: { pollMs: 100 } } });
    await hub.start();
    cleanup(() => hub.stop());
    const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
    cleanup(() => client.endAsync());

    const start = Date.now();
    for (let i = 0; i < 40; i++) {
      const ts = start + i * 100;
      for (const [node, historical] of [
        ['live-node', undefined],
        ['replayed-node', 1],
      ] as const) {
        const sample = { v: 1, boot: 'b', seq: i, ts_ms: ts, cpu_pct: 95, ...(historical ? { historical } : {}) };
        await client.publishAsync(topics.metrics(node), Buffer.from(encodeSample(sample)), { qos: 1 });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const api = `http://127.0.0.1:${hub.httpPort}`;
    await waitFor('live-node RED', async () => {
      const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms`);
      return body.alarms.some((a) => a.node === 'live-node' && a.state === 'red');
    });
    const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?history=1h`);
    expect(body.alarms.filter((a) => a.node === 'replayed-node')).toEqual([]);
    // Both were stored all the same (the last batch commits on ingest's timer, after the RED).
    await waitFor('all 80 samples stored', () => hub.ingest.stats.stored >= 80);
    expect(hub.ingest.stats.stored).toBe(80);
  });
});
