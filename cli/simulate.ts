// `remonitor simulate`: a made-up fleet publishing realistic samples through a broker, for load
// tests, benchmarks and demos. Nodes share a few MQTT connections (a real fleet has one each;
// the broker's work per message is the same, and this machine's sockets are spared).
// The first nodes go through scenarios that trip the default alarm rules, most within two minutes
// (edge-agent/simulated-scenarios.ts); `--backfill 7d` gives every node a week of history first.
import mqtt, { type MqttClient } from 'mqtt';
import { encodeInfo, encodeSample, formatDuration, topics } from '../protocol/index.ts';
import { interval, untilSignal } from '../edge-agent/main.ts';
import * as v from 'valibot';
import { resolveOptions, textOption, valueOption } from '../shared/options.ts';
import { brokerUrl, countUpTo, duration, parsedBy } from '../shared/option-schemas.ts';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { parseScenarios, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from '../edge-agent/simulated-scenarios.ts';
import { backfill, backfillPace, type BackfillProgress, type BackfillResult } from './backfill.ts';

/** A duration of 0 (none) or from `min` to `max`, the problem starting with `what`. */
function zeroOrDuration(what: string, min: number, max: number) {
  return v.pipe(
    duration('7d, 12h or 60s'),
    v.check((ms) => ms === 0 || (ms >= min && ms <= max), `${what} must be 0 or from ${formatDuration(min)} to ${formatDuration(max)}`),
  );
}

// Past a few weeks the hub keeps only 15-minute and hourly rollups (hub/storage/rollups.ts), which a
// coarse step fills as well: 90 days covers every tier a chart reads at its finest.
const MAX_BACKFILL_MS = 90 * 86_400_000;
/** Samples a backfill may publish in all: bounds its time (minutes at the hub's pace) and the hub's disk. */
const MAX_BACKFILL_SAMPLES = 5_000_000;

export const simulateSpec = {
  nodes: valueOption({ flag: 'nodes', help: 'number of simulated nodes', default: 100, schema: countUpTo('nodes', 100_000) }),
  intervalMs: valueOption({ flag: 'interval', help: 'sample interval of each node', default: 1000, schema: interval }),
  broker: valueOption({ flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', schema: brokerUrl }),
  durationMs: valueOption({ flag: 'duration', help: 'stop after this long (0: until Ctrl-C)', default: 0, schema: duration('60s') }),
  connections: valueOption({ flag: 'connections', help: 'MQTT connections shared by the nodes', default: 20, schema: countUpTo('connections', 1000) }),
  prefix: textOption('prefix', 'node names are PREFIX-0000, PREFIX-0001…', 'sim'),
  // One connection publishes for many nodes, which a node's own credential may not: on a broker
  // with credentials, use a client of role hub (remonitor client add sim --role hub).
  username: textOption('username', 'MQTT user name (a client of role hub on a broker with credentials)'),
  password: textOption('password', 'MQTT password (its token)'),
  scenarios: valueOption({
    flag: 'scenarios',
    help: `trouble for the first nodes, one each, that trips the default alarms (within 2 minutes; warming's AMBER in 7): ${SCENARIO_NAMES.join(', ')}, or none`,
    default: SCENARIO_NAMES.join(','),
    schema: v.pipe(
      v.string(),
      parsedBy(parseScenarios),
      v.transform((names) => names.join(',') || 'none'),
    ),
  }),
  backfillMs: valueOption({
    flag: 'backfill',
    help: 'publish this much history for every node (replayed samples, stored at their own times) before going live',
    default: 0,
    schema: zeroOrDuration('backfill', 60_000, MAX_BACKFILL_MS),
  }),
  // One a minute: every 1-minute rollup of the history holds a sample, so charts of any range
  // show no holes (a hole is a silence over 2.5 of a chart's steps), at 1/60 of a 1 Hz history.
  backfillStepMs: valueOption({
    flag: 'backfill-step',
    help: 'time between two samples of the history',
    default: 60_000,
    schema: zeroOrDuration('backfill-step', 1000, 86_400_000),
  }),
};

/** The scenario of each node, in fleet order: the first nodes get the listed ones. */
export function scenarioList(text: string): ScenarioName[] {
  const names = parseScenarios(text);
  if ('problem' in names) throw new TypeError(`--scenarios: ${names.problem}`);
  return names;
}

/** A problem with the backfill flags together (each alone was checked by its parser), or null. */
export function backfillProblem(o: { nodes: number; backfillMs: number; backfillStepMs: number }): string | null {
  if (o.backfillMs === 0) return null;
  if (o.backfillStepMs > o.backfillMs)
    return `--backfill-step (${formatDuration(o.backfillStepMs)}) must not be longer than --backfill (${formatDuration(o.backfillMs)})`;
  const samples = o.nodes * Math.ceil(o.backfillMs / o.backfillStepMs);
  if (samples > MAX_BACKFILL_SAMPLES) {
    return `--backfill ${formatDuration(o.backfillMs)} every ${formatDuration(o.backfillStepMs)} for ${o.nodes} nodes is ${samples.toLocaleString('en')} samples, more than ${MAX_BACKFILL_SAMPLES.toLocaleString('en')}: use a coarser --backfill-step or fewer --nodes`;
  }
  return null;
}

export interface SimulationResult {
  published: number;
  acked: number;
  seconds: number;
  /** What the backfill did, when there was one. */
  backfill: BackfillResult | null;
  /** When the live part started (and with it the scenarios), ms. */
  liveStartMs: number;
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
  /** Comma-separated scenario names for the first nodes, or `none` (default none). */
  scenarios?: string;
  backfillMs?: number;
  backfillStepMs?: number;
  progress?: (line: string) => void;
  backfillProgress?: (p: BackfillProgress) => void;
  /** Told when the history is stored, before the fleet goes live. */
  backfillDone?: (h: BackfillResult) => void;
  /** Ends the live part early (as Ctrl-C does). */
  signal?: AbortSignal;
}): Promise<SimulationResult> {
  const scenarios = scenarioList(o.scenarios ?? 'none');
  const backfillMs = o.backfillMs ?? 0;
  const stepMs = o.backfillStepMs ?? 60_000;
  const problem = backfillProblem({ nodes: o.nodes, backfillMs, backfillStepMs: stepMs });
  if (problem) throw new TypeError(problem);
  // The history ends where the live part is due to begin, when the backfill has run at its pace:
  // its newest samples are published just before their time comes (never in the future), and the
  // scenarios' lead-ups meet their live part.
  const perNode = backfillMs > 0 ? Math.ceil(backfillMs / stepMs) : 0;
  const liveDueMs = Date.now() + Math.ceil(((perNode * o.nodes) / backfillPace(stepMs)) * 1000);
  const bootMs = liveDueMs - backfillMs - 86_400_000;
  const fleet = Array.from(
    { length: o.nodes },
    (_, i) => new SimulatedNode(`${o.prefix}-${String(i).padStart(4, '0')}`, i + 1, liveDueMs, { scenario: scenarios[i], bootMs }),
  );
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: Math.min(o.connections, o.nodes) }, (_, i) =>
      mqtt.connectAsync(o.broker, { clientId: `remonitor-sim-${o.prefix}-${i}`, protocolVersion: 4, clean: true, username: o.username, password: o.password }),
    ),
  );
  const clientOf = (i: number) => clients[i % clients.length]!;
  // Birth records first; the status after the history: the hub's alarms hear of a node from its
  // status and live samples only, so a node that said online and then sent only history for
  // minutes would be called offline.
  await Promise.all(
    fleet.map((node, i) => clientOf(i).publishAsync(topics.info(node.name), Buffer.from(encodeInfo(node.info(o.intervalMs))), { qos: 1, retain: true })),
  );

  let history: BackfillResult | null = null;
  if (perNode > 0) {
    history = await backfill({ fleet, clientOf, fromMs: liveDueMs - perNode * stepMs, toMs: liveDueMs, stepMs, progress: o.backfillProgress });
    o.backfillDone?.(history);
    if (Date.now() < liveDueMs) await new Promise((r) => setTimeout(r, liveDueMs - Date.now()));
  }
  const liveStartMs = Date.now();
  for (const node of fleet) node.startAt(liveStartMs);
  await Promise.all(fleet.map((node, i) => clientOf(i).publishAsync(topics.status(node.name), 'online', { qos: 1, retain: true })));

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
      if (!node.online(now)) continue;
      published++;
      clientOf(i).publish(topics.metrics(node.name), Buffer.from(encodeSample(node.next(now))), { qos: 1 }, (err) => {
        if (!err) acked++;
      });
    }
    slice = (slice + 1) % slices;
  }, o.intervalMs / slices);
  const report = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    o.progress?.(
      `simulate: ${Math.round(s)} s, ${published.toLocaleString()} samples published (${Math.round(published / s).toLocaleString()}/s), ${acked.toLocaleString()} acknowledged by the broker`,
    );
  }, 5000);

  await new Promise<void>((resolve) => {
    const timer = o.durationMs > 0 ? setTimeout(done, o.durationMs) : null;
    if (!timer) void untilSignal().then(done);
    o.signal?.addEventListener('abort', done, { once: true });
    if (o.signal?.aborted) done();
    function done() {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', done);
      resolve();
    }
  });
  clearInterval(timer);
  clearInterval(report);
  await Promise.all(fleet.map((node, i) => clientOf(i).publishAsync(topics.status(node.name), 'offline', { qos: 1, retain: true })));
  await Promise.all(clients.map((c) => c.endAsync()));
  return { published, acked, seconds: (Date.now() - started) / 1000, backfill: history, liveStartMs };
}

/** `remonitor simulate`. */
export async function runSimulate(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(simulateSpec, argv);
  const problem = backfillProblem(o);
  if (problem) {
    console.error(`remonitor simulate: ${problem}`);
    return 2;
  }
  const scenarios = scenarioList(o.scenarios).slice(0, o.nodes);
  console.log(
    `remonitor: simulating ${o.nodes} nodes every ${formatDuration(o.intervalMs)} on ${o.broker}` +
      (o.durationMs ? ` for ${formatDuration(o.durationMs)}` : ' until Ctrl-C'),
  );
  scenarios.forEach((name, i) => console.log(`  ${o.prefix}-${String(i).padStart(4, '0')}: ${name}, ${SCENARIOS[name]}`));
  if (o.backfillMs > 0)
    console.log(`remonitor: first ${formatDuration(o.backfillMs)} of history for every node, a sample every ${formatDuration(o.backfillStepMs)}`);
  const line = progressLine();
  const result = await runSimulation({
    ...o,
    progress: (text) => console.error(text),
    backfillProgress: (p) =>
      line(
        `backfill: ${Math.floor((100 * p.published) / Math.max(1, p.total))} % (${p.published.toLocaleString('en')} of ${p.total.toLocaleString('en')} samples, ${Math.round(p.published / Math.max(p.seconds, 0.001)).toLocaleString('en')}/s), ${p.stored.toLocaleString('en')} stored by the hub`,
      ),
    // Said as soon as the history is stored, not when the run ends: the fleet goes live now.
    backfillDone: (h) => {
      line(null);
      console.log(
        `remonitor: backfilled ${formatDuration(o.backfillMs)} of history: ${h.published.toLocaleString('en')} samples (${h.perNode.toLocaleString('en')} a node) in ${h.seconds.toFixed(1)} s, ` +
          `${h.stored === h.published ? 'all' : h.stored.toLocaleString('en')} stored by the hub; live from now`,
      );
    },
  });
  line(null);
  console.log(`remonitor: published ${result.published} samples in ${result.seconds.toFixed(1)} s, ${result.acked} acknowledged by the broker`);
  return 0;
}

/**
 * Prints a progress line: on a terminal one line rewritten in place, else a line every 5 s (a log
 * file wants no carriage returns). `null` ends it.
 */
function progressLine(): (text: string | null) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = false;
  return (text) => {
    if (text === null) {
      if (shown && tty) process.stderr.write('\n');
      shown = false;
      return;
    }
    if (tty) process.stderr.write(`\r${text}\x1b[K`);
    else if (Date.now() - last >= 5000) {
      process.stderr.write(`${text}\n`);
      last = Date.now();
    } else return;
    shown = true;
  };
}
