// When the store is slower than the fleet, ingest stops reading the broker rather than pile the
// backlog up in memory (it holds the next PUBACK), and still stores every sample once.
// FAKE, named: the slow store is the hub's real SQLite writer (its thread) behind a 100 ms delay per write, standing
// in for a slow disk or a distant PostgreSQL, which cannot be had on demand here.
import { afterEach, describe, expect, it } from 'vitest';
import { Ingest } from '../../hub/ingest/ingest.ts';
import { LiveFeed } from '../../hub/live-feed.ts';
import { MqttFleetLink } from '../../hub/ingest/mqtt-fleet-link.ts';
import type { SampleWriter } from '../../hub/storage/sample-writer.ts';
import { ThreadedSqliteWriter } from '../../hub/storage/sqlite/threaded-sample-writer.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, topics } from '../../protocol/index.ts';
import { fakeAgentClient, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const SAMPLES = 6000;
const MAX_BATCH = 200;

function slowWriter(inner: SampleWriter, delayMs: number): SampleWriter {
  return {
    write: async (batch, nodeWrites) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return inner.write(batch, nodeWrites);
    },
    spoolReport: (node, report) => inner.spoolReport(node, report),
  };
}

describe('ingest in front of a slow store', () => {
  it('keeps at most two batches waiting, reads on as writes finish, and stores every sample once', async () => {
    const { url } = await startBroker();
    const path = `${tempDir()}/remonitor.db`;
    const store = openSqliteStore(path);
    cleanup(() => store.close());
    const writer = new ThreadedSqliteWriter({ path });
    cleanup(() => writer.close());
    const ingest = new Ingest({
      link: new MqttFleetLink({ brokerUrl: url, log: quietLog }),
      writer: slowWriter(writer, 100),
      feed: new LiveFeed(),
      log: quietLog,
      maxBatch: MAX_BATCH,
      flushIntervalMs: 20,
    });
    await ingest.start();
    cleanup(() => ingest.stop());

    let peak = 0;
    const probe = setInterval(() => (peak = Math.max(peak, ingest.pending)), 5);
    cleanup(() => clearInterval(probe));
    const agent = await fakeAgentClient(url);
    const t0 = Date.now() - SAMPLES;
    // 100 in flight at a time, as fast as the broker acknowledges: far faster than 200 per 100 ms.
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < SAMPLES) {
          const seq = next++;
          await agent.publishAsync(topics.metrics('flood'), Buffer.from(encodeSample(sampleAt(seq, t0 + seq))), { qos: 1 });
        }
      }),
    );
    await waitFor('every sample stored', () => ingest.stats.stored === SAMPLES, 60_000);
    console.log(`backpressure: ${SAMPLES} samples through a store taking 100 ms per write of ≤ ${MAX_BATCH}: peak pending ${peak}`);
    expect(peak).toBeLessThanOrEqual(2 * MAX_BATCH + 1);
    expect(ingest.stats.duplicates).toBe(0);
    const rows = store.db.prepare<[], { n: number; d: number }>('SELECT count(*) AS n, count(DISTINCT seq) AS d FROM samples').get()!;
    expect(rows).toEqual({ n: SAMPLES, d: SAMPLES });
  }, 90_000);
});
