// What per-node credentials cost the broker: CONNECT → CONNACK per second on loopback, with an
// open broker and with credentials (a SQLite look-up and a SHA-256 per CONNECT), in the same run,
// alternating rounds so both see the same machine. Raw sockets and one hand-built CONNECT packet,
// so the figure is the broker's and not a client library's; a reconnect storm after a hub restart
// is exactly this. Figures only, no asserts.
// Run: node scripts/run-ts.mjs bench/auth-connect.ts [--connects 2000] [--parallel 20] [--nodes 1000] [--rounds 3]
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAuthDb } from '../auth/auth-db.ts';
import { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { agentClientId } from '../protocol/topics.ts';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../shared/logger.ts';

const { values } = parseArgs({
  options: {
    connects: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '20' },
    nodes: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const positive = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${name} must be a positive integer, got ${raw}`);
  return n;
};
const CONNECTS = positive('connects', values.connects);
const PARALLEL = positive('parallel', values.parallel);
const NODES = positive('nodes', values.nodes);
const ROUNDS = positive('rounds', values.rounds);

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** CONNECT, MQTT 3.1.1, clean session, keepalive 30 s, user name and password [MQTT-3.1]. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02 | 0x80 | 0x40, 0, 30]), str(clientId), str(username), str(password)]);
  if (body.length > 127) throw new RangeError('CONNECT too long for the one-byte length used here');
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** One connection: CONNECT, wait for the CONNACK, close; resolves with its return code. */
function connectOnce(port: number, packet: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no CONNACK within 10 s'));
    }, 10_000);
    socket.once('connect', () => socket.write(packet));
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(chunk[3] ?? -1);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** CONNECTs per second for `packets`, at most PARALLEL in flight; throws if any is refused. */
async function measure(port: number, packets: Buffer[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < CONNECTS) {
        const code = await connectOnce(port, packets[next++ % packets.length]!);
        if (code !== 0) throw new Error(`CONNACK ${code}`);
      }
    }),
  );
  return CONNECTS / ((performance.now() - t0) / 1000);
}

const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-auth-'));
const db = openAuthDb(dataDir);
const credentials = new MqttCredentials(db);
const packets = Array.from({ length: NODES }, (_, i) => {
  const name = `node-${i}`;
  return connectPacket(agentClientId(name), name, credentials.add(name, 'node'));
});
const log = createLogger('silent');
const open = new EmbeddedBroker({ port: 0, log });
const withCredentials = new EmbeddedBroker({ port: 0, log, credentials });
await open.start();
await withCredentials.start();
try {
  await measure(open.port, packets.slice(0, 50)); // warm-up: JIT, SQLite page cache
  await measure(withCredentials.port, packets.slice(0, 50));
  const rates: Record<'open' | 'credentials', number[]> = { open: [], credentials: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rates.open.push(await measure(open.port, packets));
    rates.credentials.push(await measure(withCredentials.port, packets));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`CONNECT → CONNACK on loopback, ${CONNECTS} connects per round, ${PARALLEL} in flight, ${NODES} enrolled nodes, ${ROUNDS} rounds (median)`);
  console.log('broker              connects/s   per connect');
  for (const [label, xs] of [
    ['open (no auth)', rates.open],
    ['per-node tokens', rates.credentials],
  ] as const) {
    const rate = median(xs);
    console.log(`${label.padEnd(18)}  ${rate.toFixed(0).padStart(10)}   ${(1000 / rate).toFixed(3)} ms`);
  }
  console.log(`ratio with tokens / open: ${(median(rates.credentials) / median(rates.open)).toFixed(2)}`);
} finally {
  await open.stop();
  await withCredentials.stop();
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
}
