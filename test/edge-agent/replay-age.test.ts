// The agent's help with time: every sample carries its monotonic clock (mono_ms), and a replayed
// one how long ago it was taken (age_ms), when the agent that replays it took it: a real agent and
// spool against a real broker with no hub, so nothing is acked and the backlog is sent again.
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSample, topics, type Sample } from '../../protocol/index.ts';
import { simAgent } from '../faults/fleet.ts';
import { cleanup, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('replayed samples', () => {
  it('carry age_ms when this agent process took them, and none when an earlier one did', async () => {
    const { url } = await startBroker();
    const listener = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => listener.endAsync());
    const heard: { sample: Sample; atMs: number }[] = [];
    listener.on('message', (_topic, payload) => heard.push({ sample: decodeSample(payload), atMs: Date.now() }));
    await listener.subscribeAsync(topics.metrics('pi-age'), { qos: 1 });
    const spoolDir = tempDir('remonitor-spool-');

    // No hub: no ack ever comes, so after the ack timeout the agent sends its samples again.
    const first = simAgent(url, 'pi-age', { intervalMs: 100, ackTimeoutMs: 500, spoolDir });
    await first.start();
    await waitFor('replays of the first run', () => heard.filter((h) => h.sample.historical).length >= 5);
    await first.stop();
    const firstRunSeqs = new Set(heard.map((h) => h.sample.seq));
    const live = heard.filter((h) => !h.sample.historical);
    expect(live.length).toBeGreaterThan(0);
    for (const { sample } of live) {
      expect(sample.mono_ms).toBeGreaterThanOrEqual(0);
      expect(sample.age_ms).toBeUndefined();
    }
    for (const { sample, atMs } of heard.filter((h) => h.sample.historical)) {
      // Nothing steps this machine's clock here, so arrival − age is when it was taken, give or take the
      // time on the way (generous: a loaded machine).
      expect(sample.age_ms).toBeGreaterThan(0);
      expect(Math.abs(atMs - sample.age_ms! - sample.ts_ms)).toBeLessThan(2000);
    }

    // A new agent on the same spool replays what the first took: it cannot tell how long ago
    // (a reboot restarts the monotonic clock), so without age_ms; its own samples with it.
    heard.length = 0;
    const second = simAgent(url, 'pi-age', { intervalMs: 100, ackTimeoutMs: 500, spoolDir });
    await second.start();
    await waitFor(
      'replays of both runs',
      () =>
        heard.some((h) => h.sample.historical && firstRunSeqs.has(h.sample.seq)) && heard.some((h) => h.sample.historical && !firstRunSeqs.has(h.sample.seq)),
    );
    const replays = heard.filter((h) => h.sample.historical);
    for (const { sample } of replays.filter((h) => firstRunSeqs.has(h.sample.seq))) {
      expect(sample.age_ms).toBeUndefined();
      expect(sample.mono_ms).toBeGreaterThanOrEqual(0); // as it was taken
    }
    for (const { sample } of replays.filter((h) => !firstRunSeqs.has(h.sample.seq))) expect(sample.age_ms).toBeGreaterThan(0);
  });
});
