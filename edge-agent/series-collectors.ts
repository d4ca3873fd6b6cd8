// The collectors of labelled values (containers, services, storage health, the Pi's signals, the
// clock, a node's own metrics), run after the base sampler's read and added to its `series` field,
// within a cap. Each fails on its own: a missing source costs its values and one log line.
import { formatDuration, MAX_SERIES_LABELS, parseDuration, SERIES_NAME, type LabelledValue } from '../protocol/index.ts';
import type { Collector } from './collectors/collector.ts';
import { createClockCollector } from './collectors/clock.ts';
import { createContainersCollector } from './collectors/containers.ts';
import { createExecCollector, createTextfileCollector, type ExecSpec } from './collectors/custom-metrics.ts';
import { createPiSignalsCollector } from './collectors/pi-signals.ts';
import { createServicesCollector } from './collectors/services.ts';
import { createStorageHealthCollector } from './collectors/storage-health.ts';
import { monotonicNowMs } from './rates.ts';
import type { Reading, SampleOptions, Sampler } from './sampler.ts';

/**
 * At most this many labelled values a sample, and at most this many bytes of them (roughly as
 * encoded): past either, the rest are left out and one line is logged. The byte budget keeps a
 * sample well under the wire's 64 KiB limit whatever the labels' lengths.
 */
export const MAX_SAMPLE_SERIES = 500;
export const MAX_SAMPLE_SERIES_BYTES = 32 * 1024;

/** The optional collectors --disable-collectors may name. */
export const OPTIONAL_COLLECTORS = ['containers', 'services', 'storage', 'smart', 'pi', 'clock'] as const;
export type OptionalCollector = (typeof OPTIONAL_COLLECTORS)[number];

export interface SeriesCollectorOptions {
  /** Units whose state is reported as service_active{unit}. */
  services?: readonly string[];
  /** A directory of `*.prom` files. */
  textfileDir?: string;
  exec?: readonly ExecSpec[];
  disabled?: readonly OptionalCollector[];
}

/**
 * Where the collectors' lines go. A source this machine lacks (no systemd, no cgroup v2, smartctl
 * without root) is a fact, logged at `info`; a node's own metrics gone wrong (a bad line, a failing
 * command, the cap) is the operator's to fix, logged at `warn`.
 */
export interface SeriesLog {
  warn: (msg: string) => void;
  info: (msg: string) => void;
}

/** The collectors that read a node's own metrics: their failures are warnings. */
const CUSTOM_COLLECTORS = new Set(['textfile', 'exec']);

/** The collectors the options ask for, in the order they run. */
export function createSeriesCollectors(options: SeriesCollectorOptions, logs: SeriesLog): Collector[] {
  const log = logs.info;
  const off = new Set(options.disabled ?? []);
  const list: Collector[] = [];
  // The Linux sources; elsewhere only a node's own metrics are read.
  if (process.platform === 'linux') {
    if (!off.has('containers')) list.push(createContainersCollector({ log }));
    if (!off.has('services')) list.push(createServicesCollector({ units: options.services, log }));
    if (!off.has('storage')) list.push(createStorageHealthCollector({ smartctl: off.has('smart') ? null : 'smartctl', log }));
    if (!off.has('pi')) list.push(createPiSignalsCollector());
    if (!off.has('clock')) list.push(createClockCollector({ log }));
  }
  if (options.textfileDir) list.push(createTextfileCollector(options.textfileDir, logs.warn));
  if (options.exec?.length) list.push(createExecCollector(options.exec, logs.warn));
  return list;
}

/** Roughly a value's encoded size: its texts plus the CBOR framing and a float. */
const approxBytes = (v: LabelledValue): number => {
  let n = v.name.length + 12;
  for (const k in v.labels) n += k.length + v.labels[k]!.length + 2;
  return n;
};

/** The wire's limit on a text (protocol/codec.ts): a longer label value would cost the whole sample. */
const MAX_LABEL_TEXT = 256;

/** Whether the hub's decoder takes a value: its name and label names, label count and value lengths. */
export function wireValid(v: LabelledValue): boolean {
  if (!SERIES_NAME.test(v.name) || !Number.isFinite(v.value)) return false;
  let n = 0;
  for (const k in v.labels) {
    if (++n > MAX_SERIES_LABELS || !SERIES_NAME.test(k) || v.labels[k]!.length > MAX_LABEL_TEXT) return false;
  }
  return true;
}

/**
 * Leaves out values the wire would refuse (a mount point over 256 characters), then keeps the first
 * within MAX_SAMPLE_SERIES and MAX_SAMPLE_SERIES_BYTES; returns how many were dropped.
 */
export function capSeries(series: LabelledValue[]): number {
  const before = series.length;
  if (!series.every(wireValid)) {
    const valid = series.filter(wireValid);
    series.length = 0;
    series.push(...valid);
  }
  let bytes = 0;
  let keep = 0;
  while (keep < series.length && keep < MAX_SAMPLE_SERIES) {
    bytes += approxBytes(series[keep]!);
    if (bytes > MAX_SAMPLE_SERIES_BYTES) break;
    keep++;
  }
  series.length = keep;
  return before - keep;
}

/** `base`, with `collectors` run after each read, their failures and the cap reported once each. */
export function withSeriesCollectors(base: Sampler, collectors: readonly Collector[], logs: SeriesLog, now: () => number = monotonicNowMs): Sampler {
  if (collectors.length === 0) return base;
  const failed = new Set<string>();
  const report = (c: Collector, err: unknown) => {
    if (failed.has(c.name)) return;
    failed.add(c.name);
    (CUSTOM_COLLECTORS.has(c.name) ? logs.warn : logs.info)(`agent: ${c.name} unavailable (${(err as Error).message}); its values are left out while it fails`);
  };
  let capLogged = false;
  const readNow = async (options: SampleOptions): Promise<Reading> => {
    const out = await base.read(options);
    const t = now();
    for (const c of collectors) {
      try {
        await c.collect(out, t);
      } catch (err) {
        report(c, err);
      }
    }
    if (out.series) {
      const dropped = capSeries(out.series);
      if (dropped > 0 && !capLogged) {
        capLogged = true;
        logs.warn(
          `agent: ${dropped} labelled values left out of a sample: at most ${MAX_SAMPLE_SERIES} (and ${MAX_SAMPLE_SERIES_BYTES} bytes of them) are sent, the first ones in collector order, and none with a label value over ${MAX_LABEL_TEXT} characters`,
        );
      }
      if (out.series.length === 0) delete out.series;
    }
    return out;
  };
  let last: Promise<unknown> = Promise.resolve();
  return {
    read(options) {
      const result = last.then(() => readNow(options));
      last = result.catch(() => undefined);
      return result;
    },
    close() {
      base.close?.();
      for (const c of collectors) c.close?.();
    },
  };
}

// ---- Option parsing (the agent's --services, --exec, --disable-collectors) ----

/** A systemd unit name as systemctl takes it. */
const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]{1,200}$/;

export function serviceList(raw: string): string[] | { problem: string } {
  const units = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = units.filter((u) => !UNIT_NAME.test(u));
  if (bad.length) return { problem: `not a systemd unit name: ${bad.map((b) => JSON.stringify(b)).join(', ')}` };
  return [...new Set(units)];
}

export function collectorList(raw: string): OptionalCollector[] | { problem: string } {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.filter((n) => !(OPTIONAL_COLLECTORS as readonly string[]).includes(n));
  if (bad.length)
    return { problem: `unknown collector ${bad.map((b) => JSON.stringify(b)).join(', ')}; the optional ones are ${OPTIONAL_COLLECTORS.join(', ')}` };
  return names as OptionalCollector[];
}

export const MIN_EXEC_INTERVAL_MS = 1000;
export const MAX_EXEC_INTERVAL_MS = 86_400_000;
const EXEC_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * `--exec 'NAME=COMMAND@INTERVAL'`, several separated by commas: an entry ends at its `@INTERVAL`,
 * so a comma inside a command is kept (a comma splits only after an interval and before `NAME=`).
 * A config file may give a JSON list of entries.
 */
export function execList(raw: string): ExecSpec[] | { problem: string } {
  const entries = raw
    .split(/(?<=@\s*\d+(?:\.\d+)?(?:ms|s|m|h|d)?\s*),(?=\s*[A-Za-z0-9_.-]+=)/)
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const specs: ExecSpec[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const m = /^([^=]*)=(.*)@([^@]*)$/s.exec(entry);
    if (!m) {
      problems.push(`${JSON.stringify(entry)} is not NAME=COMMAND@INTERVAL`);
      continue;
    }
    const [, name, command, every] = m as unknown as [string, string, string, string];
    const everyMs = parseDuration(every.trim());
    if (!EXEC_NAME.test(name)) problems.push(`${JSON.stringify(name)}: a name is 1–64 of A-Za-z0-9_.-`);
    else if (command.trim() === '') problems.push(`${name}: no command`);
    else if (everyMs === null || everyMs < MIN_EXEC_INTERVAL_MS || everyMs > MAX_EXEC_INTERVAL_MS) {
      problems.push(
        `${name}: interval ${JSON.stringify(every)} must be a duration between ${formatDuration(MIN_EXEC_INTERVAL_MS)} and ${formatDuration(MAX_EXEC_INTERVAL_MS)}`,
      );
    } else if (specs.some((s) => s.name === name)) problems.push(`${name}: named twice`);
    else specs.push({ name, command: command.trim(), everyMs });
  }
  return problems.length ? { problem: problems.join('; ') } : specs;
}
