// `remonitor simulate --backfill`: a week of history for a small fleet goes through the real broker
// into a real hub and SQLite file, each sample stored at its own time (not when it arrived), every
// one acknowledged by the hub, and the rollups cover the week once the hub has derived them.
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { backfill } from '../../cli/backfill.ts';
import { runSimulation } from '../../cli/simulate.ts';
import { SimulatedNode } from '../../edge-agent/simulated-node.ts';
import type { SeriesResponse } from '../../shared/api-types.ts';
import { CLI, cleanup, getJson, runCleanups, spawnProcess, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

describe('remonitor simulate --backfill', () => {
  it('stores a week of hourly history for every node at its own times, and the rollups cover the week', async () => {
    const { url } = await startBroker();
    const { api, hub } = await startHub(url);
    const nodes = ['bf-0000', 'bf-0001', 'bf-0002'];
    const before = Date.now();
    const result = await runSimulation({
      nodes: 3,
      intervalMs: 1000,
      broker: url,
      durationMs: 2000,
      connections: 2,
      prefix: 'bf',
      backfillMs: 7 * DAY_MS,
      backfillStepMs: HOUR_MS,
    });
    const perNode = 7 * 24;
    expect(result.backfill).toMatchObject({ published: 3 * perNode, stored: 3 * perNode, perNode });
    // Replayed with their age, stored at their own times: none moved to when it arrived.
    expect(hub.ingest.stats.timeCorrected).toBe(0);

    // An hour apart, up to where the live part took over.
    const historyEnd = result.backfill!.toMs;
    expect(historyEnd).toBeLessThanOrEqual(result.liveStartMs);
    expect(result.backfill!.fromMs).toBeGreaterThanOrEqual(before - 7 * DAY_MS);
    const expected = Array.from({ length: perNode }, (_, k) => historyEnd - (perNode - k) * HOUR_MS);

    for (const node of nodes) {
      // The last day from the raw samples: exact times.
      const { body: raw } = await getJson<SeriesResponse>(
        `${api}/api/nodes/${node}/series?metrics=cpu_pct,mem_pct&from=${historyEnd - DAY_MS + 1}&to=${historyEnd - 1}&points=5000`,
      );
      expect(raw.resolution).toBe('raw');
      const rawTimes = raw.data[0].filter((_, i) => raw.data[1]![i] !== null).map((s) => s * 1000);
      expect(rawTimes).toEqual(expected.filter((t) => t > historyEnd - DAY_MS));
    }

    // The whole week, from the 1-minute rollups the hub derives once a minute: one chart step per sample
    // (up to the last one's minute: the live samples may share the minute the history ended in).
    for (const node of nodes) {
      const week = await waitFor(
        `${node}'s rollups over the week`,
        async () => {
          const { body } = await getJson<SeriesResponse>(
            `${api}/api/nodes/${node}/series?metrics=cpu_pct,disk_pct&from=${historyEnd - 7 * DAY_MS - HOUR_MS}&to=${historyEnd - HOUR_MS + 1}&points=5000`,
          );
          const times = body.data[0].filter((_, i) => body.data[1]![i] !== null);
          return times.length >= perNode ? { body, times } : null;
        },
        100_000,
        1000,
      );
      expect(week.body.resolution).toBe('1m');
      const stepMs = week.body.step_s! * 1000;
      expect(week.times.map((s) => s * 1000)).toEqual(expected.map((t) => t - (t % stepMs)));
    }
  }, 150_000);

  it('stops with a clear error when no hub acknowledges what it sends', async () => {
    const { url } = await startBroker(); // a broker with no hub reading it
    const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
    cleanup(() => client.endAsync());
    const fleet = [new SimulatedNode('lonely-0000', 1)];
    const now = Date.now();
    await expect(backfill({ fleet, clientOf: () => client, fromMs: now - DAY_MS, toMs: now, stepMs: 60_000, stallMs: 1500 })).rejects.toThrow(
      /backfill: the hub acknowledged nothing for 2 s \(0 of [\d,]+ samples stored\): is a hub \(remonitor up, or remonitor hub\) reading this broker\?/,
    );
  });

  it('prints its progress and what it did, and refuses a step longer than the history', async () => {
    const { url } = await startBroker();
    await startHub(url);
    const sim = spawnProcess(process.execPath, [
      CLI,
      'simulate',
      '--broker',
      url,
      '--nodes',
      '2',
      '--backfill',
      '2h',
      '--backfill-step',
      '10m',
      '--duration',
      '2s',
      '--scenarios',
      'none',
      '--prefix',
      'cli',
    ]);
    expect((await sim.exited).code).toBe(0);
    expect(sim.output()).toMatch(/first 2h of history for every node, a sample every 10m/);
    expect(sim.output()).toMatch(/backfill: \d+ % \(\d+ of 24 samples/);
    expect(sim.output()).toMatch(/backfilled 2h of history: 24 samples \(12 a node\) in [\d.]+ s, all stored by the hub/);

    const bad = spawnProcess(process.execPath, [CLI, 'simulate', '--broker', url, '--backfill', '1h', '--backfill-step', '2h']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.output()).toMatch(/--backfill-step \(2h\) must not be longer than --backfill \(1h\)/);
    const unknown = spawnProcess(process.execPath, [CLI, 'simulate', '--broker', url, '--scenarios', 'disk-fill,flood']);
    expect((await unknown.exited).code).not.toBe(0);
    expect(unknown.output()).toMatch(/--scenarios: unknown scenario "flood"; known: disk-fill, leak, hot, dies, clock, warming, or none/);
  }, 60_000);
});
