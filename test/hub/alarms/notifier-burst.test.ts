// 300 nodes crossing one rule within 15 s, through the real alarm engine (its live feed, its
// SQLite queue, a real broker for its retained alarm topics) and three channels on fakes of their
// services (node:http on 127.0.0.1): at most 3 notifications per channel in the first minute,
// each naming its nodes; every node named by the end, none lost, though the webhook's first
// delivery fails (retried, its failure visible in the queue's status meanwhile). The clock is
// injected: the test walks it second by second instead of sleeping.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../hub/alarms/engine.ts';
import { LiveFeed, sampleEvent } from '../../../hub/live-feed.ts';
import { toPoint } from '../../../hub/storage/sample-point.ts';
import { sampleAt } from '../../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir } from '../../helpers/parts.ts';

afterEach(runCleanups);

interface Received {
  atS: number;
  body: string;
}

/** A fake service: answers each call with the next of `statuses` (the last repeats). */
async function fakeService(statuses: number[], clockS: () => number): Promise<{ host: string; calls: Received[]; answered: number[] }> {
  const calls: Received[] = [];
  const answered: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = statuses[Math.min(answered.length, statuses.length - 1)]!;
      answered.push(status);
      if (status < 300) calls.push({ atS: clockS(), body });
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"ok":true}' : '{"ok":false,"description":"try later"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls, answered };
}

const NODES = 300;
const names = Array.from({ length: NODES }, (_, i) => `pi-${String(i + 1).padStart(3, '0')}`);

describe('a burst through the engine', () => {
  it('300 nodes crossing at once: at most 3 messages per channel in the first minute, none lost', async () => {
    const { url } = await startBroker();
    const t0 = Date.now();
    let nowMs = t0;
    const clockS = () => Math.round((nowMs - t0) / 1000);
    const ntfy = await fakeService([200], clockS);
    const telegram = await fakeService([200], clockS);
    const webhook = await fakeService([503, 204], clockS);
    const dir = tempDir();
    const feed = new LiveFeed();
    const channels = [`ntfy://${ntfy.host}/fleet?scheme=http`, `telegram://123:abc@${telegram.host}?chats=42&scheme=http`, `http://${webhook.host}/hook`];
    const engine = new AlarmEngine({
      brokerUrl: url,
      feed,
      log: quietLog,
      dbPath: join(dir, 'remonitor.db'),
      rulesFile: join(dir, 'alarm-rules.json'),
      now: () => nowMs,
      tickMs: 3_600_000,
      // Default grouping (10 s wait, 5 min interval); the queue is driven by the test's ticks only.
      seedRules: () => [{ id: 'cpu-hot', metric: 'cpu_pct', threshold: 90, for: '0s', window: '1s', horizon: '0', notify: { channels } }],
      notifier: { pollMs: 3_600_000, baseBackoffMs: 5000, dashboardUrl: 'https://hub.example:8080' },
    });
    await engine.start();
    cleanup(() => engine.stop());

    // Node i goes hot at second i % 15 and stays hot; every node samples once a second.
    const failingSeen: { failing: number; last_error: string | null }[] = [];
    for (let s = 0; s <= 330; s++) {
      nowMs = t0 + s * 1000;
      names.forEach((node, i) => {
        const sample = sampleAt(s, nowMs, { cpu_pct: s >= i % 15 ? 97 : 20 });
        feed.publish(sampleEvent(node, sample, toPoint(sample)));
      });
      engine.notifier.tick();
      await engine.notifier.settled();
      const webhookRow = (await engine.notifier.queueStatus()).find((q) => q.kind === 'webhook');
      if (webhookRow && webhookRow.failing > 0) failingSeen.push(webhookRow);
    }
    expect(engine.active().filter((a) => a.state === 'red')).toHaveLength(NODES);

    for (const [name, fake] of [
      ['ntfy', ntfy],
      ['telegram', telegram],
      ['webhook', webhook],
    ] as const) {
      const firstMinute = fake.calls.filter((c) => c.atS < 60);
      expect(firstMinute.length, name).toBeGreaterThanOrEqual(1);
      expect(firstMinute.length, name).toBeLessThanOrEqual(3);
      // Every node named once it had crossed, across the messages.
      const named = new Set(fake.calls.flatMap((c) => c.body.match(/pi-\d{3}/g) ?? []));
      expect([...named].sort(), name).toEqual(names);
      const counts = fake.calls.map((c) => `${c.atS} s naming ${new Set(c.body.match(/pi-\d{3}/g)).size} nodes`);
      console.log(`[burst] ${name}: ${fake.calls.length} messages (${counts.join(', ')}); ${fake.answered.length} requests`);
    }
    // The webhook's first attempt failed: visible in the queue with the service's answer, then retried.
    expect(webhook.answered.slice(0, 2)).toEqual([503, 204]);
    expect(failingSeen[0]).toMatchObject({ failing: 1, last_error: expect.stringMatching(/^HTTP 503 Service Unavailable: .*try later/) });
    expect(await engine.notifier.queueStatus()).toEqual([]);
    expect(engine.notifier.stats).toMatchObject({ failedAttempts: 1, delivered: webhook.calls.length + ntfy.calls.length + telegram.calls.length });
  }, 120_000);
});
