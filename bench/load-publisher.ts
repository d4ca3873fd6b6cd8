// Load generator for bench/hub-ingest.ts, run as its own process: publishes realistic samples at
// QoS 1 as fast as the broker acknowledges them, with a bounded number in flight per connection;
// or, with --rate, paced to that many messages a second in all (a load the hub should keep up with).
// Run: node scripts/run-ts.mjs bench/load-publisher.ts --broker URL --root remonitor|bench --duration 30s [--rate N] [--names load]
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { encodeSample, parseDuration } from '../protocol/index.ts';

const { values } = parseArgs({
  options: {
    broker: { type: 'string' },
    root: { type: 'string', default: 'remonitor' },
    duration: { type: 'string', default: '30s' },
    nodes: { type: 'string', default: '1000' },
    // Another run on the same hub needs other names: the same nodes again would send the first
    // run's samples (their boot and seq from 0) and the hub would drop them as duplicates.
    names: { type: 'string', default: 'load' },
    connections: { type: 'string', default: '50' },
    window: { type: 'string', default: '100' },
    rate: { type: 'string' },
  },
});
if (!values.broker) throw new TypeError('--broker URL is required');
const durationMs = parseDuration(values.duration)!;
const window = Number(values.window);
const rate = values.rate === undefined ? Infinity : Number(values.rate);
if (!(rate > 0)) throw new TypeError(`--rate must be a positive number of messages a second, got ${values.rate}`);
const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => new SimulatedNode(`${values.names}-${String(i).padStart(5, '0')}`, i + 1));
const clients = await Promise.all(
  Array.from({ length: Number(values.connections) }, () => mqtt.connectAsync(values.broker!, { protocolVersion: 4, clean: true })),
);
let published = 0;
const start = Date.now();
const deadline = start + durationMs;
/** Messages one connection may have sent by now: all it can when unpaced. */
const quota = (): number => (rate === Infinity ? Infinity : Math.floor(((Date.now() - start) / 1000) * (rate / clients.length)));
await Promise.all(
  clients.map(async (client, c) => {
    let inFlight = 0;
    let next = c;
    let sent = 0;
    await new Promise<void>((done) => {
      const pump = () => {
        while (inFlight < window && Date.now() < deadline && sent < quota()) {
          sent++;
          const node = nodes[next % nodes.length]!;
          next += clients.length;
          inFlight++;
          const payload = Buffer.from(encodeSample(node.next(Date.now())));
          client.publish(`${values.root}/${node.name}/metrics`, payload, { qos: 1 }, () => {
            inFlight--;
            published++;
            if (Date.now() < deadline) pump();
            else if (inFlight === 0) done();
          });
        }
      };
      pump();
      // Paced: top up every 10 ms until the deadline (the acks' callbacks top up in between).
      if (rate !== Infinity) {
        const timer = setInterval(() => {
          if (Date.now() < deadline) return pump();
          clearInterval(timer);
          if (inFlight === 0) done();
        }, 10);
      }
    });
  }),
);
await Promise.all(clients.map((c) => c.endAsync()));
const cpu = process.cpuUsage();
// Its CPU time, so that the bench can tell whether the load generator was what limited a run.
console.log(JSON.stringify({ published, seconds: durationMs / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
