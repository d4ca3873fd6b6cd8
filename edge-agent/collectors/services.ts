// systemd units: every failed one as service_failed{unit} = 1 (and 0 once it recovers, for units this
// agent saw failed), and the units the operator names (--services) as service_active{unit} 1/0.
// `systemctl` runs every `everyMs` in the background; where it is missing or systemd is not running
// (a container) the values are absent and one line is logged.
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

/**
 * `systemctl list-units --all --plain --no-legend`: `UNIT LOAD ACTIVE SUB DESCRIPTION…` a line
 * (older versions mark a failed unit with a leading ●). Returns each unit's ACTIVE state.
 */
export function parseUnitStates(text: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const [unit, , active] = raw
      .trim()
      .replace(/^[●*]\s*/, '')
      .split(/\s+/);
    if (unit && active) states.set(unit, active);
  }
  return states;
}

/**
 * The values of one listing: every failed unit 1, units seen failed before 0 once they are not,
 * and each watched unit 1 while active (or reloading). A watched name without a suffix means its
 * .service; a unit systemd has not loaded (never started) is not listed, and so counts as down.
 */
export function serviceValues(states: ReadonlyMap<string, string>, watched: readonly string[], everFailed: Set<string>): LabelledValue[] {
  const values: LabelledValue[] = [];
  for (const [unit, active] of states) if (active === 'failed') everFailed.add(unit);
  for (const unit of everFailed) values.push({ name: 'service_failed', labels: { unit }, value: states.get(unit) === 'failed' ? 1 : 0 });
  for (const unit of watched) {
    const active = states.get(unit) ?? states.get(`${unit}.service`);
    values.push({ name: 'service_active', labels: { unit }, value: active === 'active' || active === 'reloading' ? 1 : 0 });
  }
  return values;
}

/**
 * Runs a command; its stdout once it exits with one of `okCodes` (default any: smartctl's exit
 * status is a bit mask that a failing disk sets while printing its report).
 */
export function runForOutput(command: string, args: readonly string[], timeoutMs: number, okCodes?: readonly number[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? err.code : 0;
      if (err && (typeof code !== 'number' || err.killed)) reject(err);
      else if (okCodes && !okCodes.includes(code as number))
        reject(new Error(`${command} ${args[0] ?? ''} exited ${code}: ${stderr.trim().split('\n')[0]?.slice(0, 200) ?? ''}`));
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
    // One command a run (a systemctl costs 10–30 ms of CPU): every loaded unit's state.
    async () =>
      serviceValues(
        parseUnitStates(await runForOutput(command, ['list-units', '--all', '--plain', '--no-legend', '--no-pager'], 10_000, [0])),
        units,
        everFailed,
      ),
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
