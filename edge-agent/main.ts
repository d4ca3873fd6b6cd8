// `remonitor agent`: options, then an Agent until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as v from 'valibot';
import { formatDuration, splitTags, tagListProblems, type NodeInfo } from '../protocol/index.ts';
import { Agent, type AgentOptions } from './agent.ts';
import { readBirthRecord } from './birth-record.ts';
import { readBirthRecordInChild } from './birth-record-child.ts';
import { createSampler } from './choose-sampler.ts';
import { collectorList, execList, serviceList, type SeriesCollectorOptions } from './series-collectors.ts';
import { createLogger, logLevel, type Logger } from '../shared/logger.ts';
import { describeOptions, resolveOptions, textOption, valueOption } from '../shared/options.ts';
import { brokerUrl, durationBetween, nodeName, parsedBy } from '../shared/option-schemas.ts';
import { AGENT_VERSION } from '../shared/version.ts';
import { spoolAge, spoolDirFor, spoolSize } from './spool-options.ts';
import { DEFAULT_SPOOL_MAX_AGE_MS, DEFAULT_SPOOL_MAX_BYTES } from './spool.ts';

export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;

/** A sample interval, 250ms–1h. */
export const interval = durationBetween('500ms, 1s or 5m', MIN_INTERVAL_MS, MAX_INTERVAL_MS);

/** `--ca FILE`: read at setup, so a wrong path stops the agent instead of failing every handshake. */
export const caFile = v.pipe(
  v.string(),
  v.rawTransform<string, Buffer>(({ dataset, addIssue, NEVER }) => {
    try {
      return readFileSync(dataset.value);
    } catch (err) {
      addIssue({ message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      return NEVER;
    }
  }),
  v.check((pem) => /-----BEGIN CERTIFICATE-----/.test(pem.toString('latin1')), 'not a PEM certificate (-----BEGIN CERTIFICATE-----)'),
);

/** `--tags ci,room:kitchen` (a config file may give a JSON list): each checked, every bad one named. */
export const tagList = v.pipe(
  v.string(),
  v.transform(splitTags),
  v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (dataset.typed) for (const problem of tagListProblems(dataset.value)) addIssue({ message: problem });
  }),
);

/** The machine's hostname made into a valid node name (dots and dashes kept, others replaced). */
export function defaultNodeName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) || 'node'
  );
}

export const agentSpec = {
  broker: valueOption({ flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', schema: brokerUrl }),
  node: valueOption({ flag: 'node', help: 'node name (1–64 of A-Za-z0-9._-)', default: defaultNodeName(), schema: nodeName }),
  intervalMs: valueOption({ flag: 'interval', help: 'sample interval, 250ms–1h', default: 1000, schema: interval }),
  processIntervalMs: valueOption({ flag: 'process-interval', help: 'process list interval', default: 5000, schema: interval }),
  username: textOption('username', 'MQTT username'),
  password: textOption('password', 'MQTT password or node token'),
  ca: valueOption({ flag: 'ca', help: "PEM CA certificate to trust for mqtts:// and wss:// (e.g. the hub's self-signed one)", schema: caFile }),
  tags: valueOption({
    flag: 'tags',
    help: 'tags of this node, comma-separated lowercase words (ci,room:kitchen), sent in its birth record',
    default: [],
    schema: tagList,
  }),
  logLevel: valueOption({ flag: 'log-level', help: 'log level', default: 'info', schema: logLevel }),
  spoolDir: textOption('spool-dir', "where samples wait for the hub's ack (default $XDG_STATE_HOME or ~/.local/state, then remonitor/spool/<node>)"),
  spoolMaxBytes: valueOption({ flag: 'spool-max', help: 'spool size cap; the oldest samples go first', default: DEFAULT_SPOOL_MAX_BYTES, schema: spoolSize }),
  spoolMaxAgeMs: valueOption({ flag: 'spool-max-age', help: 'spool age cap', default: DEFAULT_SPOOL_MAX_AGE_MS, schema: spoolAge }),
  services: valueOption({
    flag: 'services',
    help: 'systemd units reported as service_active{unit} 1/0 (nginx,ssh); failed units are reported anyway',
    default: [],
    schema: v.pipe(v.string(), parsedBy(serviceList)),
  }),
  textfileDir: textOption('textfile-dir', "directory of *.prom files (Prometheus text format) sent as the node's own metrics"),
  exec: valueOption({
    flag: 'exec',
    help: "commands whose stdout (Prometheus text format) is sent as the node's own metrics: NAME=COMMAND@INTERVAL, comma-separated",
    default: [],
    schema: v.pipe(v.string(), parsedBy(execList)),
  }),
  disableCollectors: valueOption({
    flag: 'disable-collectors',
    help: 'optional collectors to leave off: containers,services,storage,smart,pi,clock',
    default: [],
    schema: v.pipe(v.string(), parsedBy(collectorList)),
  }),
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
