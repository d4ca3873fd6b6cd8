// Load generator for bench/hub-ingest.ts, run as its own process: publishes realistic samples at
// QoS 1 as fast as the broker acknowledges them, with a bounded number in flight per connection.
// Run: node scripts/run-ts.mjs bench/load-publisher.ts --broker URL --root remonitor|bench --duration 30s
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
    connections: { type: 'string', default: '50' },
    window: { type: 'string', default: '100' },
  },
});
if (!values.broker) throw new TypeError('--broker URL is required');
const durationMs = parseDuration(values.duration)!;
const window = Number(values.window);
const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => new SimulatedNode(`load-${String(i).padStart(5, '0')}`, i + 1));
const clients = await Promise.all(
  Array.from({ length: Number(values.connections) }, () => mqtt.connectAsync(values.broker!, { protocolVersion: 4, clean: true })),
);
let published = 0;
const deadline = Date.now() + durationMs;
await Promise.all(
  clients.map(async (client, c) => {
    let inFlight = 0;
    let next = c;
    await new Promise<void>((done) => {
      const pump = () => {
        while (inFlight < window && Date.now() < deadline) {
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
    });
  }),
);
await Promise.all(clients.map((c) => c.endAsync()));
console.log(JSON.stringify({ published, seconds: durationMs / 1000 }));
