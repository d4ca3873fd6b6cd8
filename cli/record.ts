// `remonitor record [options] -- COMMAND ARGS…`: runs a command, follows its memory (the command
// and every child) like a watch does, and on exit prints a summary, writes a JSON and a
// self-contained HTML report, and exits with the command's code, or with a distinct code when
// --fail-on-leak or --max-rss is breached (--max-rss stops the command the moment it is passed).
// Works alone; with --broker it also publishes the session on remonitor/<node>/procs so that a hub
// records it beside the fleet (cli/record-hub.ts). Also built alone as dist/remonitor-record.mjs,
// which the hub serves for CI jobs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { formatDuration } from '../protocol/duration.ts';
import { procsTotals, type ProcsSample } from '../protocol/procs.ts';
import { nodeNameProblem } from '../protocol/topics.ts';
import { caFile, defaultNodeName, interval } from '../edge-agent/main.ts';
import * as v from 'valibot';
import { OptionsError, resolveOptions, describeOptions, switchOption, textOption, valueOption } from '../shared/options.ts';
import { brokerUrl, jsonObject, nodeName, parsedBy } from '../shared/option-schemas.ts';
import { ProcessWatch } from '../edge-agent/process-watch.ts';
import { analyzeLeak, beforeTheEnd, parseThresholds, type LeakAnalysis } from '../hub/sessions/leak-verdict.ts';
import { HubReport, type HubReportOutcome } from './record-hub.ts';
import { renderReportHtml } from './record-report.ts';

/** Exit codes of a breach: outside the range shells use for signals (128+) and common tool codes. */
export const EXIT_LEAK = 86;
export const EXIT_MAX_RSS = 87;
/** A command stopped for --max-rss gets this long after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5000;

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  k: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  g: 1024 ** 3,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;
const sizeUnit = (text: string) => SIZE_UNITS[(SIZE.exec(text)?.[2] || 'b').toLowerCase()];

/** "512MB" → bytes (binary units: MB = 2^20, as top and free count memory). */
export const size = v.pipe(
  v.string(),
  v.check((text) => SIZE.test(text) && sizeUnit(text) !== undefined, 'must be a size such as 512MB, 1.5GB or 300000000 (bytes)'),
  v.transform((text) => Math.round(Number(SIZE.exec(text)![1]) * sizeUnit(text)!)),
);

const JSON_OBJECT_PROBLEM = 'must be a JSON object such as {"minSlopeMbPerHour": 5}';
/** Leak-verdict thresholds as JSON text; each threshold is checked by the verdict's own parser. */
export const leakThresholds = v.pipe(
  v.string(),
  v.rawTransform<string, unknown>(({ dataset, addIssue, NEVER }) => {
    try {
      return JSON.parse(dataset.value);
    } catch {
      addIssue({ message: JSON_OBJECT_PROBLEM });
      return NEVER;
    }
  }),
  jsonObject(JSON_OBJECT_PROBLEM),
  parsedBy(parseThresholds),
);

/** --leak-thresholds, shared by record, hub and up. */
export const leakThresholdsOption = valueOption({
  flag: 'leak-thresholds',
  help: 'JSON of leak-verdict thresholds, e.g. {"minSlopeMbPerHour": 5} (see README, Leak hunting)',
  schema: leakThresholds,
});

export const recordSpec = {
  intervalMs: valueOption({ flag: 'interval', help: 'memory sample interval, 250ms–1h', default: 500, schema: interval }),
  failOnLeak: switchOption('fail-on-leak', `exit ${EXIT_LEAK} when the verdict is "leak suspected"`),
  maxRss: valueOption({
    flag: 'max-rss',
    help: `stop the command and exit ${EXIT_MAX_RSS} as soon as its RSS (with its children) passes this, e.g. 512MB`,
    schema: size,
  }),
  out: textOption('out', 'write the JSON report here'),
  html: textOption('html', 'write the self-contained HTML report here'),
  broker: valueOption({ flag: 'broker', help: "also publish the session to the hub's broker (it appears on the sessions page)", schema: brokerUrl }),
  node: valueOption({ flag: 'node', help: "node name the session is published under (default: --username, else this machine's name)", schema: nodeName }),
  username: textOption('username', 'MQTT user name: a node enrolled for CI (remonitor node add ci) or an operator client'),
  password: textOption('password', 'its MQTT token'),
  ca: valueOption({ flag: 'ca', help: "PEM CA certificate to trust for mqtts:// and wss:// (e.g. the hub's self-signed one)", schema: caFile }),
  leakThresholds: leakThresholdsOption,
  quiet: switchOption('quiet', 'no progress lines while the command runs'),
};

export const RECORD_USAGE = `remonitor record [options] -- COMMAND ARGS…: run a command and record its memory (with its children)
${describeOptions(recordSpec)}
exit code: the command's own, or ${EXIT_LEAK} on --fail-on-leak with "leak suspected", ${EXIT_MAX_RSS} when --max-rss is passed
(the command is then stopped: SIGTERM, SIGKILL ${KILL_GRACE_MS / 1000} s later). A broker that is down or refuses the
credentials is a warning: the verdict, the reports and the exit code do not depend on it.`;

export interface RecordSample {
  ts_ms: number;
  rss_bytes: number;
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  swap_bytes: number | null;
  cpu_pct: number | null;
  procs: number;
}

export interface RecordReport {
  command: string[];
  node: string;
  session: string;
  started_ms: number;
  ended_ms: number;
  duration_ms: number;
  interval_ms: number;
  exit_code: number | null;
  signal: string | null;
  peak_rss_bytes: number;
  analysis: LeakAnalysis;
  /** For max-rss, `at_ms` is when the limit was passed and the command stopped. */
  breach: { kind: 'leak' | 'max-rss'; message: string; at_ms?: number } | null;
  /** With --broker: how much of the session reached the hub's broker. */
  hub: HubReportOutcome | null;
  /** The exit code remonitor record itself exits with. */
  record_exit_code: number;
  processes: { pid: number; name: string; peak_rss_bytes: number }[];
  samples: RecordSample[];
}

const MiB = 1024 * 1024;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

/** The command and the processes of its last sample: SIGTERM now, SIGKILL to survivors after a grace. */
function stopTree(child: ChildProcess, sample: ProcsSample): () => void {
  const pids = new Set([child.pid!, ...sample.procs.filter((p) => !p.exited).map((p) => p.pid)]);
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), KILL_GRACE_MS);
  // Once the command has exited, what is left of its tree is killed at once, not waited for.
  return () => {
    clearTimeout(timer);
    signal('SIGKILL');
  };
}

export async function runRecord(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(recordSpec, argv);
  if (positionals.length === 0) throw new OptionsError(['no command to record: put it after "--", as in remonitor record --fail-on-leak -- npm test']);
  if ((o.username === undefined) !== (o.password === undefined)) {
    throw new OptionsError([
      o.username === undefined ? '--password needs --username (the name its token was made for)' : `--username ${o.username} needs --password (its token)`,
    ]);
  }
  const [command, ...args] = positionals as [string, ...string[]];
  // A node's token publishes only under the node's own name, so the user name is the natural default.
  const node = o.node ?? (o.username !== undefined && nodeNameProblem(o.username) === null ? o.username : defaultNodeName());
  const sessionHex = randomBytes(4).toString('hex');
  const session = `record-${sessionHex}`;
  const say = (line: string) => process.stderr.write(`remonitor record: ${line}\n`);

  const hub = o.broker ? new HubReport({ broker: o.broker, node, sessionHex, username: o.username, password: o.password, ca: o.ca, say }) : null;

  const started = Date.now();
  const child = spawn(command, args, { stdio: 'inherit' });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // Ctrl-C or a CI cancel reaches the command too (same process group on a terminal; forwarded otherwise).
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  const samples: RecordSample[] = [];
  const peaks = new Map<number, { pid: number; name: string; peak_rss_bytes: number }>();
  let lastProgress = 0;
  // Set from the sampling callback when --max-rss is passed.
  const maxRssStop: { breach: RecordReport['breach']; killRest: (() => void) | null } = { breach: null, killRest: null };
  const onSample = (s: ProcsSample) => {
    for (const p of s.procs) {
      const known = peaks.get(p.pid);
      if (!known || p.rss_bytes > known.peak_rss_bytes) peaks.set(p.pid, { pid: p.pid, name: p.name, peak_rss_bytes: p.rss_bytes });
    }
    const t = procsTotals(s.procs);
    if (t.count > 0) {
      samples.push({
        ts_ms: s.ts_ms,
        rss_bytes: t.rss_bytes,
        rss_anon_bytes: t.rss_anon_bytes,
        rss_file_bytes: t.rss_file_bytes,
        swap_bytes: t.swap_bytes,
        cpu_pct: t.cpu_pct,
        procs: t.count,
      });
    }
    hub?.publish(s);
    if (o.maxRss !== undefined && maxRssStop.breach === null && !s.ended && t.rss_bytes > o.maxRss) {
      const after = `${((s.ts_ms - started) / 1000).toFixed(1)} s`;
      maxRssStop.breach = {
        kind: 'max-rss',
        message: `RSS ${mib(t.rss_bytes)} passed --max-rss ${mib(o.maxRss)} after ${after}; the command was stopped`,
        at_ms: s.ts_ms,
      };
      say(
        `RSS ${mib(t.rss_bytes)} passed --max-rss ${mib(o.maxRss)} after ${after}: stopping the command (SIGTERM, then SIGKILL after ${KILL_GRACE_MS / 1000} s)`,
      );
      maxRssStop.killRest = stopTree(child, s);
    }
    // Progress: about every 5 s, so that a CI log shows the job is alive without drowning in lines.
    if (!o.quiet && t.count > 0 && s.ts_ms - lastProgress >= 5000) {
      lastProgress = s.ts_ms;
      const peak = samples.reduce((m, x) => Math.max(m, x.rss_bytes), 0);
      say(`${((s.ts_ms - started) / 1000).toFixed(0)} s, ${t.count} process${t.count === 1 ? '' : 'es'}, RSS ${mib(t.rss_bytes)} (peak ${mib(peak)})`);
    }
  };

  let watch: ProcessWatch | null = null;
  if (child.pid !== undefined) {
    watch = new ProcessWatch({ session, target: { kind: 'pid', pid: child.pid }, includeChildren: true, intervalMs: o.intervalMs, publish: onSample });
    watch.start(0);
    if (!o.quiet)
      say(
        `recording "${[command, ...args].join(' ')}" (pid ${child.pid}) every ${formatDuration(o.intervalMs)}${hub ? `, session ${session} on ${o.broker} as node ${node}` : ''}`,
      );
  }
  const outcome = await Promise.race([exited, spawnError]);
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (outcome instanceof Error) {
    watch?.stop(false);
    await hub?.finish();
    throw new Error(`cannot run "${command}": ${outcome.message}`);
  }
  // The last read sees the command gone: it closes the session (ended) with the last values.
  watch?.stop(true);
  maxRssStop.killRest?.();
  const ended = Date.now();
  const published = hub ? await hub.finish() : null;

  // The verdict leaves out the exit's last interval; the report keeps every sample.
  const analysis = analyzeLeak(beforeTheEnd(samples, ended, o.intervalMs), o.leakThresholds);
  const peak = samples.reduce((m, s) => Math.max(m, s.rss_bytes), 0);
  const commandCode = outcome.code ?? 128 + (constants.signals[outcome.signal as keyof typeof constants.signals] ?? 0);
  const leak = o.failOnLeak && analysis.verdict === 'leak suspected';
  const found: RecordReport['breach'] =
    maxRssStop.breach ??
    (leak ? { kind: 'leak', message: `leak suspected (${analysis.slope_mb_per_h} MB/h, r² ${analysis.r2}) and --fail-on-leak is set` } : null);
  // A command stopped for --max-rss exits on our signal: the breach is the reason. Otherwise the
  // command's own failure comes first, and a leak turns a success into a failure.
  const exitCode = found?.kind === 'max-rss' ? EXIT_MAX_RSS : commandCode !== 0 ? commandCode : found ? EXIT_LEAK : 0;
  const report: RecordReport = {
    command: [command, ...args],
    node,
    session,
    started_ms: started,
    ended_ms: ended,
    duration_ms: ended - started,
    interval_ms: o.intervalMs,
    exit_code: outcome.code,
    signal: outcome.signal,
    peak_rss_bytes: peak,
    analysis,
    breach: found,
    hub: published,
    record_exit_code: exitCode,
    processes: [...peaks.values()].sort((a, b) => b.peak_rss_bytes - a.peak_rss_bytes).slice(0, 50),
    samples,
  };
  if (o.out) writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.html) writeFileSync(o.html, renderReportHtml(report));

  const slope = analysis.slope_mb_per_h === null ? '—' : `${analysis.slope_mb_per_h} MB/h (r² ${analysis.r2})`;
  say(
    `${analysis.verdict}: peak RSS ${mib(peak)}, slope ${slope}, ${samples.length} samples over ${((ended - started) / 1000).toFixed(1)} s; command exited ${outcome.signal ? `on ${outcome.signal}` : `with ${outcome.code}`}`,
  );
  say(`  ${analysis.reason}`);
  if (o.out || o.html) say(`  report: ${[o.out, o.html].filter(Boolean).join(', ')}`);
  if (published) {
    say(
      published.problem === null
        ? `  hub: session ${session} of node ${node} sent through ${published.broker} (${published.acked} samples)`
        : `  WARNING: the hub has ${published.acked === 0 ? 'no copy' : `only ${published.acked} of ${published.samples} samples`} of session ${session}: ${published.problem}. The verdict and reports above are complete.`,
    );
  }
  if (found) say(`FAILED: ${found.message}; exiting ${exitCode}`);
  return exitCode;
}
