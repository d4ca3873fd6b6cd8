// `remonitor simulate --backfill 7d`: a history for every simulated node, published through the
// broker before the fleet goes live, as remonitor's agent replays its spool (PROTOCOL.md,
// "Acknowledgements and replay"): QoS 1, each sample marked `historical` with its `age_ms`, so the
// hub stores it at its own time (hub/ingest/sample-time.ts) and raises no alarm on it. The hub's acks
// (protocol/ack.ts) say what it has stored; they bound how far the publisher may run ahead.
import type { MqttClient } from 'mqtt';
import { decodeAck, encodeSample, parseTopic, topics } from '../protocol/index.ts';
import type { SimulatedNode } from '../edge-agent/simulated-node.ts';

export interface BackfillProgress {
  published: number;
  /** Acknowledged by the hub as stored. */
  stored: number;
  total: number;
  seconds: number;
}

export interface BackfillResult extends Omit<BackfillProgress, 'total'> {
  /** Samples per node. */
  perNode: number;
  /** The history's first sample and the end of its span (its last sample is one step before), ms. */
  fromMs: number;
  toMs: number;
}

export interface BackfillOptions {
  fleet: readonly SimulatedNode[];
  /** The connection that publishes node i's samples. */
  clientOf: (i: number) => MqttClient;
  /** History from this time up to (not including) `toMs`, one sample per node every `stepMs`. */
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Called about once a second. */
  progress?: (p: BackfillProgress) => void;
  /** Gives up when the hub has acknowledged nothing new for this long while samples wait. Default 30 s. */
  stallMs?: number;
  /** Node-minutes of history sent per second at most (see NODE_MINUTES_PER_S). */
  nodeMinutesPerS?: number;
  now?: () => number;
}

// The hub sums new samples into 1-minute buckets in memory and folds them into its rollups once a
// minute; past 100,000 buckets it drops the sums and rebuilds from raw rows, which reach back only
// as far as raw retention (2 days by default, hub/storage/sqlite/sqlite-store.ts): a week sent faster would lose its
// older rollups. A sample per minute or sparser is a new bucket each, so 1,000 a second keeps a
// minute's worth at 60,000, well under the cap, with room for the live fleet beside it.
export const NODE_MINUTES_PER_S = 1000;
// Samples sent but not yet acknowledged by the hub, at most (it acks each node every 5 s by default).
const HUB_WINDOW = 20_000;
// Samples sent but not yet PUBACKed by the broker, at most.
const BROKER_WINDOW = 1000;
// Samples published per turn of the event loop, so that acks are read between bursts.
const BURST = 200;

/** Samples a second at most: one stands for min(1, step / 1 min) of a node-minute (finer steps share buckets). */
export function backfillPace(stepMs: number, nodeMinutesPerS = NODE_MINUTES_PER_S): number {
  return nodeMinutesPerS * Math.max(1, 60_000 / stepMs);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function backfill(o: BackfillOptions): Promise<BackfillResult> {
  const now = o.now ?? Date.now;
  const perNode = Math.max(0, Math.ceil((o.toMs - o.fromMs) / o.stepMs));
  const total = perNode * o.fleet.length;
  const stallMs = o.stallMs ?? 30_000;
  const samplesPerS = backfillPace(o.stepMs, o.nodeMinutesPerS);

  // The hub acks each node's boot with `next`: every seq below it is stored. The history is the
  // start of the node's boot (seq 0 on), so `next` counts its stored samples.
  const index = new Map(o.fleet.map((node, i) => [node.name, i]));
  const next = new Array<number>(o.fleet.length).fill(0);
  let stored = 0;
  let lastProgressMs = now();
  const onAck = (topic: string, payload: Buffer) => {
    const parsed = parseTopic(topic);
    const i = parsed?.channel === 'ack' ? index.get(parsed.node) : undefined;
    if (i === undefined) return;
    try {
      const ack = decodeAck(payload);
      if (ack.boot !== o.fleet[i]!.boot || ack.next <= next[i]!) return;
      stored += Math.min(ack.next, perNode) - Math.min(next[i]!, perNode);
      next[i] = ack.next;
      lastProgressMs = now();
    } catch {
      // not an ack we can read: another hub's version, or noise on a shared broker
    }
  };
  const listener = o.clientOf(0);
  listener.on('message', onAck);
  await listener.subscribeAsync(topics.allNodes('ack'), { qos: 0 });

  let published = 0;
  let pubacked = 0;
  let failed: Error | null = null;
  const started = now();
  const seconds = () => (now() - started) / 1000;
  const report = setInterval(() => o.progress?.({ published, stored, total, seconds: seconds() }), 1000);
  /** Waits while `busy` holds; throws when the hub has stored nothing new for `stallMs`. */
  const waitWhile = async (busy: () => boolean) => {
    while (busy()) {
      if (failed) throw failed;
      if (now() - lastProgressMs > stallMs) {
        throw new Error(
          `backfill: the hub acknowledged nothing for ${Math.round(stallMs / 1000)} s (${stored.toLocaleString()} of ${published.toLocaleString()} samples stored): is a hub (remonitor up, or remonitor hub) reading this broker?`,
        );
      }
      await sleep(10);
    }
  };
  try {
    // Oldest first and every node abreast, as a fleet's spools would replay: charts fill from the left.
    for (let k = 0; k < perNode; k++) {
      const ts = o.fromMs + k * o.stepMs;
      for (let i = 0; i < o.fleet.length; i++) {
        if (published % BURST === 0) {
          await waitWhile(() => published - stored >= HUB_WINDOW || published - pubacked >= BROKER_WINDOW);
          const ahead = published - seconds() * samplesPerS;
          if (ahead > 0) await sleep((ahead / samplesPerS) * 1000);
        }
        const node = o.fleet[i]!;
        const sample = { ...node.next(ts), historical: 1, age_ms: Math.max(0, now() - ts) };
        published++;
        o.clientOf(i).publish(topics.metrics(node.name), Buffer.from(encodeSample(sample)), { qos: 1 }, (err) => {
          if (err) failed ??= new Error(`backfill: publishing ${node.name}'s history failed: ${err.message}`);
          else pubacked++;
        });
      }
    }
    await waitWhile(() => stored < published);
    o.progress?.({ published, stored, total, seconds: seconds() });
  } finally {
    clearInterval(report);
    listener.off('message', onAck);
    await listener.unsubscribeAsync(topics.allNodes('ack')).catch(() => undefined);
  }
  return { published, stored, seconds: seconds(), perNode, fromMs: o.fromMs, toMs: o.fromMs + perNode * o.stepMs };
}
