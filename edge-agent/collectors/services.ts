// systemd units: every failed one as service_failed{unit} = 1 (and 0 once it recovers, for units this
// agent saw failed), and the units the operator names (--services) as service_active{unit} 1/0.
// `systemctl` runs every `everyMs` in the background (two short commands); where it is missing (no
// systemd, a container) the values are absent and one line is logged.
import { execFile } from 'node:child_process';
import type { LabelledValue } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';
import type { Collector } from './collector.ts';
import { addAllSeries, logOncePer, PeriodicJob } from './series.ts';

export interface ServicesOptions {
  /** Units whose state is reported (`nginx` means nginx.service). */
  units?: readonly string[];
  /** The systemctl to run; tests put a stand-in there. */
  command?: string;
  /** Default 60 s. */
  everyMs?: number;
  log?: (msg: string) => void;
}

/** `systemctl list-units --state=failed --plain --no-legend`: the unit is each line's first word. */
export function parseFailedUnits(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^[●*]\s*/, '').split(/\s+/)[0] ?? '')
    .filter((unit) => unit !== '');
}

/** `systemctl is-active A B`: one state a line, in the order asked. active and reloading count as up. */
export function parseIsActive(units: readonly string[], text: string): LabelledValue[] {
  const states = text.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  if (states.length !== units.length) throw new Error(`systemctl is-active: ${states.length} states for ${units.length} units`);
  return units.map((unit, i) => ({ name: 'service_active', labels: { unit }, value: states[i] === 'active' || states[i] === 'reloading' ? 1 : 0 }));
}

/** Runs a command; its stdout even when it exits non-zero (is-active exits 3 when a unit is down). */
export function runForOutput(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err && (typeof err.code !== 'number' || err.killed)) reject(err);
      else resolve(stdout);
    });
  });
}

export function createServicesCollector(options: ServicesOptions = {}): Collector {
  const command = options.command ?? 'systemctl';
  const units = options.units ?? [];
  const logOnce = logOncePer(options.log ?? ((msg) => console.warn(msg)));
  const everFailed = new Set<string>();

  const job = new PeriodicJob<LabelledValue[]>(
    options.everyMs ?? 60_000,
    async () => {
      const values: LabelledValue[] = [];
      const failed = new Set(parseFailedUnits(await runForOutput(command, ['list-units', '--state=failed', '--plain', '--no-legend', '--no-pager'], 5000)));
      for (const unit of failed) everFailed.add(unit);
      for (const unit of everFailed) values.push({ name: 'service_failed', labels: { unit }, value: failed.has(unit) ? 1 : 0 });
      if (units.length > 0) values.push(...parseIsActive(units, await runForOutput(command, ['is-active', ...units], 5000)));
      return values;
    },
    (err) => logOnce('failed', `services: ${command} failed (${(err as Error).message}); service values are left out while it fails`),
  );

  return {
    name: 'services',
    collect(out: Reading, nowMs: number) {
      const values = job.poll(nowMs);
      if (values) addAllSeries(out, values);
    },
  };
}
