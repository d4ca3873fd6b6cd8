// A hostile node against a real broker and a real hub: hand-made attacks on the CBOR decoder and a
// seeded fuzz of mutated samples (bounded in count and time; the seed is printed, FUZZ_SEED=<n>
// replays it), while a well-behaved node keeps publishing. The hub must keep answering, store every
// good sample intact, count every malformed message, reach no prototype, and refuse cheaply.
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { decodeInfo, decodeSample, decodeSpoolReport, encodeSample, ProtocolError, topics, type Sample } from '../../protocol/index.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { handMadePayloads, hostileInfos, mutatedSamples, prng, type HostilePayload } from '../helpers/hostile-cbor.ts';
import { cleanup, getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const MAX_PAYLOADS = 3000;
const MAX_FUZZ_MS = 20_000;
const GOOD_EVERY = 15; // one good sample between every 15 hostile payloads

type Channel = 'metrics' | 'info' | 'status';
interface Shot extends HostilePayload {
  channel: Channel;
}

/** What the hub should make of a payload, by the same decoders, in this process. */
function verdict({ channel, bytes }: Shot): 'accepted' | 'rejected' | 'ignored' {
  // An empty status or info is how a retained message is cleared (a removed node's topics): not an error.
  if (channel !== 'metrics' && bytes.length === 0) return 'ignored';
  try {
    if (channel === 'metrics') decodeSample(bytes);
    else if (channel === 'info') {
      decodeInfo(bytes);
      decodeSpoolReport(bytes);
    } else if (!['online', 'offline'].includes(Buffer.from(bytes).toString())) return 'rejected';
    return 'accepted';
  } catch (err) {
    if (err instanceof ProtocolError) return 'rejected';
    throw new Error(`a decoder threw ${(err as Error)?.constructor?.name} instead of a ProtocolError: ${(err as Error)?.message}`);
  }
}

const prototypeSnapshot = () =>
  [Object.prototype, Array.prototype, Map.prototype, Function.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join(',')).join('|');

function goodSample(seq: number, t0: number): Sample {
  return {
    v: 1,
    boot: 'good-boot-0001',
    seq,
    ts_ms: t0 + seq * 1000,
    cpu_pct: ((seq * 7) % 100) + 0.5,
    mem_pct: 40 + (seq % 10),
    load_1: 0.25 * (seq % 8),
    mem_used_bytes: 1_000_000 + seq,
    filesystems: [{ mount: '/', size_bytes: 100_000, used_bytes: 50_000 + seq, used_pct: 50 }],
  };
}

describe('a hub under hostile CBOR', () => {
  it('keeps answering, stores every good sample intact, counts the malformed ones, and refuses cheaply', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`hostile-cbor: fuzz seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    const prototypesBefore = prototypeSnapshot();

    const { url } = await startBroker();
    const { hub, api } = await startHub(url);
    const connect = async () => {
      const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
      cleanup(() => c.endAsync(true));
      return c;
    };
    const good = await connect();
    const evil = await connect();

    // The corpus: every hand-made attack, hostile birth records, a few bad statuses, then seeded mutations.
    const handMade: Shot[] = [
      ...handMadePayloads().map((p) => ({ ...p, channel: 'metrics' as const })),
      ...hostileInfos().map((p) => ({ ...p, channel: 'info' as const })),
      ...['onlin', 'OFFLINE', '', 'online\u0000', '\u00ff'.repeat(100)].map((s) => ({
        name: `status ${JSON.stringify(s)}`,
        bytes: Buffer.from(s),
        channel: 'status' as const,
      })),
    ];
    const random = prng(seed);
    const corpus: Shot[] = [
      ...handMade,
      ...mutatedSamples(seed, Math.max(0, MAX_PAYLOADS - handMade.length)).map((p) => ({ ...p, channel: 'metrics' as const })),
    ]
      .map((shot) => ({ shot, order: random() }))
      .sort((a, b) => a.order - b.order)
      .map(({ shot }) => shot)
      .slice(0, MAX_PAYLOADS);

    // Fire, bounded in count and in time; a good sample between every few hostile payloads.
    const sent: Shot[] = [];
    const goodSent: Sample[] = [];
    const deadline = Date.now() + MAX_FUZZ_MS;
    for (const shot of corpus) {
      if (Date.now() > deadline) break;
      await evil.publishAsync(topics[shot.channel]('evil'), Buffer.from(shot.bytes), { qos: 1 });
      sent.push(shot);
      if (sent.length % GOOD_EVERY === 0) {
        // Taken as it is sent (a live sample far from the hub's clock would be stored at the hub's time).
        const sample = goodSample(goodSent.length, Date.now() - goodSent.length * 1000);
        await good.publishAsync(topics.metrics('good'), Buffer.from(encodeSample(sample)), { qos: 1 });
        goodSent.push(sample);
      }
    }
    console.log(`hostile-cbor: sent ${sent.length} hostile payloads (${handMade.length} hand-made) and ${goodSent.length} good samples`);

    const expectedRejected = sent.filter((s) => verdict(s) === 'rejected').length;
    const evilMetrics = sent.filter((s) => s.channel === 'metrics').length;
    await waitFor(
      `the hub to take in ${evilMetrics + goodSent.length} samples and reject ${expectedRejected} messages`,
      () => hub.ingest.stats.received === evilMetrics + goodSent.length && hub.ingest.stats.rejected === expectedRejected && hub.ingest.pending === 0,
      30_000,
    );

    // The hub still answers, and says what it dropped on /metrics.
    expect((await getJson(`${api}/healthz`)).body).toEqual({ ok: true });
    const { body: nodes } = await getJson<{ nodes: { name: string }[] }>(`${api}/api/nodes`);
    expect(nodes.nodes.map((n) => n.name)).toContain('good');
    // what the hostile node got stored (an accepted mutation, a lenient birth record) reads back fine
    expect((await fetch(`${api}/api/nodes/evil`)).status).toBe(200);
    expect((await fetch(`${api}/api/nodes/good`)).status).toBe(200);
    const exposition = await (await fetch(`${api}/metrics`)).text();
    expect(exposition).toContain(`remonitor_hub_messages_rejected_total ${expectedRejected}`);
    const byReason = Object.values(hub.ingest.stats.rejectedByReason).reduce((a, b) => a + b, 0);
    expect(byReason).toBe(expectedRejected);
    console.log(
      `hostile-cbor: rejected ${expectedRejected}, by reason:\n${Object.entries(hub.ingest.stats.rejectedByReason)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([r, n]) => `  ${n}\t${r}`)
        .join('\n')}`,
    );

    // Every good sample is stored, once, with its values.
    const rows = (hub.store as SqliteStore).db
      .prepare(
        'SELECT seq, ts_ms, boot, cpu_pct, mem_pct, load_1, mem_used_bytes FROM samples JOIN nodes ON nodes.id = samples.node_id WHERE nodes.name = ? ORDER BY seq',
      )
      .all('good');
    expect(rows).toEqual(
      goodSent.map((s) => ({
        seq: s.seq,
        ts_ms: s.ts_ms,
        boot: s.boot,
        cpu_pct: s.cpu_pct,
        mem_pct: s.mem_pct,
        load_1: s.load_1,
        mem_used_bytes: s.mem_used_bytes,
      })),
    );

    // No prototype reached, in this process (the hub's).
    expect(prototypeSnapshot()).toBe(prototypesBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // Refusing costs about what accepting does: as many valid samples, decoded in this run. The valid
    // one is a full sample with the process list, the largest an honest node sends (~530 bytes).
    const valid = encodeSample(realisticPi4Sample());
    const metricsShots = sent.filter((s) => s.channel === 'metrics').map((s) => s.bytes);
    const time = (list: Uint8Array[]) => {
      const start = performance.now();
      for (const b of list) {
        try {
          decodeSample(b);
        } catch {
          // refused: what is timed
        }
      }
      return performance.now() - start;
    };
    const validList = metricsShots.map(() => valid);
    let hostileMs = Infinity;
    let validMs = Infinity;
    for (let i = 0; i < 3; i++) {
      validMs = Math.min(validMs, time(validList));
      hostileMs = Math.min(hostileMs, time(metricsShots));
    }
    const hostileBytes = metricsShots.reduce((n, b) => n + b.length, 0);
    console.log(
      `hostile-cbor: decoding ${metricsShots.length} hostile payloads (${hostileBytes} bytes) ${hostileMs.toFixed(1)} ms, ` +
        `as many valid full samples (${valid.length * validList.length} bytes) ${validMs.toFixed(1)} ms (×${(hostileMs / validMs).toFixed(1)})`,
    );
    expect(hostileMs).toBeLessThanOrEqual(20 * validMs);
  });
});
