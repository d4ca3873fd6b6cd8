// `remonitor simulate`: a made-up fleet publishing realistic samples through a broker, for load
// tests, benchmarks and demos. Nodes share a few MQTT connections (a real fleet has one each;
// the broker's work per message is the same, and this machine's sockets are spared).
import mqtt, { type MqttClient } from 'mqtt';
import { encodeInfo, encodeSample, formatDuration, parseDuration, topics } from '../protocol/index.ts';
import { interval, untilSignal } from '../edge-agent/main.ts';
import { brokerUrl, resolveOptions, type OptionSpec } from '../shared/options.ts';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';

const count = (what: string, max: number) => (raw: string) => {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : { problem: `${what} must be an integer from 1 to ${max}` };
};

export const simulateSpec = {
  nodes: { type: 'string', flag: 'nodes', help: 'number of simulated nodes', default: 100, parse: count('nodes', 100_000) } as OptionSpec<number>,
  intervalMs: { type: 'string', flag: 'interval', help: 'sample interval of each node', default: 1000, parse: interval } as OptionSpec<number>,
  broker: { type: 'string', flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', parse: brokerUrl } as OptionSpec<string>,
  durationMs: {
    type: 'string',
    flag: 'duration',
    help: 'stop after this long (0: until Ctrl-C)',
    default: 0,
    parse: (raw: string) => parseDuration(raw) ?? { problem: 'must be a duration such as 60s' },
  } as OptionSpec<number>,
  connections: { type: 'string', flag: 'connections', help: 'MQTT connections shared by the nodes', default: 20, parse: count('connections', 1000) } as OptionSpec<number>,
  prefix: { type: 'string', flag: 'prefix', help: 'node names are PREFIX-0000, PREFIX-0001…', default: 'sim' } as OptionSpec<string>,
  // One connection publishes for many nodes, which a node's own credential may not: on a broker
  // with credentials, use a client of role hub (remonitor client add sim --role hub).
  username: { type: 'string', flag: 'username', help: 'MQTT user name (a client of role hub on a broker with credentials)' } as OptionSpec<string | undefined>,
  password: { type: 'string', flag: 'password', help: 'MQTT password (its token)' } as OptionSpec<string | undefined>,
};

export interface SimulationResult {
  published: number;
  acked: number;
  seconds: number;
}

export async function runSimulation(o: {
  nodes: number;
  intervalMs: number;
  broker: string;
  durationMs: number;
  connections: number;
  prefix: string;
  username?: string | undefined;
  password?: string | undefined;
  progress?: (line: string) => void;
}): Promise<SimulationResult> {
  const fleet = Array.from({ length: o.nodes }, (_, i) => new SimulatedNode(`${o.prefix}-${String(i).padStart(4, '0')}`, i + 1));
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: Math.min(o.connections, o.nodes) }, (_, i) =>
      mqtt.connectAsync(o.broker, { clientId: `remonitor-sim-${o.prefix}-${i}`, protocolVersion: 4, clean: true, username: o.username, password: o.password }),
    ),
  );
  const clientOf = (i: number) => clients[i % clients.length]!;
  await Promise.all(
    fleet.map((node, i) =>
      Promise.all([
        clientOf(i).publishAsync(topics.status(node.name), 'online', { qos: 1, retain: true }),
        clientOf(i).publishAsync(
          topics.info(node.name),
          Buffer.from(
            encodeInfo({
              v: 1, agent_version: 'simulated', hostname: node.name, os: 'Simulated Linux', kernel: '6.6', arch: 'arm64',
              cpu_model: 'Cortex-A72 (simulated)', cpu_cores: node.traits.cores, mem_total_bytes: node.traits.memTotalBytes,
              disks: [{ mount: '/', fs_type: 'ext4', size_bytes: node.traits.diskBytes }], boot_time_ms: Date.now() - 86_400_000,
              interval_ms: o.intervalMs,
            }),
          ),
          { qos: 1, retain: true },
        ),
      ]),
    ),
  );

  let published = 0;
  let acked = 0;
  const started = Date.now();
  // Each interval is cut into slices so that the fleet's samples spread out as real ones do.
  const slices = Math.min(10, o.nodes);
  let slice = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    for (let i = slice; i < fleet.length; i += slices) {
      const node = fleet[i]!;
      if (!node.online()) continue;
      published++;
      clientOf(i).publish(topics.metrics(node.name), Buffer.from(encodeSample(node.next(now))), { qos: 1 }, (err) => {
        if (!err) acked++;
      });
    }
    slice = (slice + 1) % slices;
  }, o.intervalMs / slices);
  const report = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    o.progress?.(`simulate: ${Math.round(s)} s, ${published.toLocaleString()} samples published (${Math.round(published / s).toLocaleString()}/s), ${acked.toLocaleString()} acknowledged by the broker`);
  }, 5000);

  await (o.durationMs > 0 ? new Promise((r) => setTimeout(r, o.durationMs)) : untilSignal());
  clearInterval(timer);
  clearInterval(report);
  await Promise.all(fleet.map((node, i) => clientOf(i).publishAsync(topics.status(node.name), 'offline', { qos: 1, retain: true })));
  await Promise.all(clients.map((c) => c.endAsync()));
  return { published, acked, seconds: (Date.now() - started) / 1000 };
}

/** `remonitor simulate`. */
export async function runSimulate(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(simulateSpec, argv);
  console.log(
    `remonitor: simulating ${o.nodes} nodes every ${formatDuration(o.intervalMs)} on ${o.broker}` +
      (o.durationMs ? ` for ${formatDuration(o.durationMs)}` : ' until Ctrl-C'),
  );
  const result = await runSimulation({ ...o, progress: (line) => console.error(line) });
  console.log(`remonitor: published ${result.published} samples in ${result.seconds.toFixed(1)} s, ${result.acked} acknowledged by the broker`);
  return 0;
}
