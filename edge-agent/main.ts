// `remonitor agent`: options, then an Agent until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { formatDuration, nodeNameProblem, parseDuration, splitTags, tagListProblems, type NodeInfo } from '../protocol/index.ts';
import { Agent, type AgentOptions } from './agent.ts';
import { readBirthRecord } from './birth-record.ts';
import { readBirthRecordInChild } from './birth-record-child.ts';
import { createSampler } from './choose-sampler.ts';
import { collectorList, execList, serviceList, type OptionalCollector, type SeriesCollectorOptions } from './series-collectors.ts';
import type { ExecSpec } from './collectors/custom-metrics.ts';
import { createLogger, logLevel, type Logger, type LogLevel } from '../shared/logger.ts';
import { brokerUrl, describeOptions, resolveOptions, type OptionSpec } from '../shared/options.ts';
import { AGENT_VERSION } from '../shared/version.ts';
import { spoolAge, spoolDirFor, spoolSize } from './spool-options.ts';
import { DEFAULT_SPOOL_MAX_AGE_MS, DEFAULT_SPOOL_MAX_BYTES } from './spool.ts';

export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;

export function interval(raw: string): number | { problem: string } {
  const ms = parseDuration(raw);
  if (ms === null) return { problem: 'must be a duration such as 500ms, 1s or 5m' };
  if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    return { problem: `must be between ${formatDuration(MIN_INTERVAL_MS)} and ${formatDuration(MAX_INTERVAL_MS)}` };
  }
  return ms;
}

/** `--ca FILE`: read at setup, so a wrong path stops the agent instead of failing every handshake. */
export function caFile(raw: string): Buffer | { problem: string } {
  let pem: Buffer;
  try {
    pem = readFileSync(raw);
  } catch (err) {
    return { problem: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  return /-----BEGIN CERTIFICATE-----/.test(pem.toString('latin1')) ? pem : { problem: 'not a PEM certificate (-----BEGIN CERTIFICATE-----)' };
}

function nodeName(raw: string): string | { problem: string } {
  const problem = nodeNameProblem(raw);
  return problem ? { problem } : raw;
}

/** `--tags ci,room:kitchen` (a config file may give a JSON list): each checked, every bad one named. */
export function tagList(raw: string): string[] | { problem: string } {
  const tags = splitTags(raw);
  const problems = tagListProblems(tags);
  return problems.length ? { problem: problems.join('; ') } : tags;
}

/** The machine's hostname made into a valid node name (dots and dashes kept, others replaced). */
export function defaultNodeName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) || 'node'
  );
}

export const agentSpec = {
  broker: { type: 'string', flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', parse: brokerUrl } as OptionSpec<string>,
  node: { type: 'string', flag: 'node', help: 'node name (1–64 of A-Za-z0-9._-)', default: defaultNodeName(), parse: nodeName } as OptionSpec<string>,
  intervalMs: { type: 'string', flag: 'interval', help: 'sample interval, 250ms–1h', default: 1000, parse: interval } as OptionSpec<number>,
  processIntervalMs: { type: 'string', flag: 'process-interval', help: 'process list interval', default: 5000, parse: interval } as OptionSpec<number>,
  username: { type: 'string', flag: 'username', help: 'MQTT username' } as OptionSpec<string | undefined>,
  password: { type: 'string', flag: 'password', help: 'MQTT password or node token' } as OptionSpec<string | undefined>,
  ca: { type: 'string', flag: 'ca', help: "PEM CA certificate to trust for mqtts:// and wss:// (e.g. the hub's self-signed one)", parse: caFile } as OptionSpec<
    Buffer | undefined
  >,
  tags: {
    type: 'string',
    flag: 'tags',
    help: 'tags of this node, comma-separated lowercase words (ci,room:kitchen), sent in its birth record',
    default: [],
    parse: tagList,
  } as OptionSpec<string[]>,
  logLevel: { type: 'string', flag: 'log-level', help: 'log level', default: 'info', parse: logLevel } as OptionSpec<LogLevel>,
  spoolDir: {
    type: 'string',
    flag: 'spool-dir',
    help: "where samples wait for the hub's ack (default $XDG_STATE_HOME or ~/.local/state, then remonitor/spool/<node>)",
  } as OptionSpec<string | undefined>,
  spoolMaxBytes: {
    type: 'string',
    flag: 'spool-max',
    help: 'spool size cap; the oldest samples go first',
    default: DEFAULT_SPOOL_MAX_BYTES,
    parse: spoolSize,
  } as OptionSpec<number>,
  spoolMaxAgeMs: { type: 'string', flag: 'spool-max-age', help: 'spool age cap', default: DEFAULT_SPOOL_MAX_AGE_MS, parse: spoolAge } as OptionSpec<number>,
  services: {
    type: 'string',
    flag: 'services',
    help: 'systemd units reported as service_active{unit} 1/0 (nginx,ssh); failed units are reported anyway',
    default: [],
    parse: serviceList,
  } as OptionSpec<string[]>,
  textfileDir: {
    type: 'string',
    flag: 'textfile-dir',
    help: "directory of *.prom files (Prometheus text format) sent as the node's own metrics",
  } as OptionSpec<string | undefined>,
  exec: {
    type: 'string',
    flag: 'exec',
    help: "commands whose stdout (Prometheus text format) is sent as the node's own metrics: NAME=COMMAND@INTERVAL, comma-separated",
    default: [],
    parse: execList,
  } as OptionSpec<ExecSpec[]>,
  disableCollectors: {
    type: 'string',
    flag: 'disable-collectors',
    help: 'optional collectors to leave off: containers,services,storage,smart,pi,clock',
    default: [],
    parse: collectorList,
  } as OptionSpec<OptionalCollector[]>,
};

export const AGENT_USAGE = `remonitor agent [options]: sample this machine and publish to a broker\n${describeOptions(agentSpec)}\n  --config FILE              JSON file of { "<flag>": value }  [REMONITOR_CONFIG]`;

/**
 * An agent for this machine: the OS sampler and the systeminformation birth record, read in this
 * process or, given `birthRecordScript` (the agent bundle), in a child process running it.
 */
export function createAgent(
  options: Pick<
    AgentOptions,
    'brokerUrl' | 'node' | 'intervalMs' | 'processIntervalMs' | 'username' | 'password' | 'ca' | 'spoolDir' | 'spoolMaxBytes' | 'spoolMaxAgeMs'
  > & { tags?: readonly string[]; series?: SeriesCollectorOptions },
  log: Logger,
  birthRecordScript?: string,
): Agent {
  const warn = (msg: string) => log.warn(msg);
  const read = birthRecordScript
    ? () => readBirthRecordInChild(birthRecordScript, options.intervalMs, AGENT_VERSION, warn)
    : () => readBirthRecord(options.intervalMs, AGENT_VERSION);
  const tags = options.tags ?? [];
  return new Agent({
    ...options,
    sampler: createSampler(warn, options.series, (msg) => log.info(msg)),
    // No tags, no key: the record stays as older agents sent it.
    birthRecord: async (): Promise<NodeInfo> => (tags.length ? { ...(await read()), tags: [...tags] } : read()),
    log,
  });
}

/** Runs the agent until a signal; resolves with the exit code. `birthRecordScript`: see createAgent. */
export async function runAgent(argv: string[], env: NodeJS.ProcessEnv = process.env, birthRecordScript?: string): Promise<number> {
  const { values: config } = resolveOptions(agentSpec, argv, env);
  const log = createLogger(config.logLevel, 'agent');
  const series: SeriesCollectorOptions = { services: config.services, textfileDir: config.textfileDir, exec: config.exec, disabled: config.disableCollectors };
  const agent = createAgent({ ...config, brokerUrl: config.broker, spoolDir: spoolDirFor(config.node, config.spoolDir, env), series }, log, birthRecordScript);
  await agent.start();
  log.info({ node: config.node, broker: config.broker, interval: formatDuration(config.intervalMs) }, 'agent started');
  await untilSignal();
  log.info('stopping: publishing offline');
  await agent.stop();
  return 0;
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
