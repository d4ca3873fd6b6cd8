// Picks the agent's sampler: direct /proc reads on Linux, systeminformation everywhere else.
// si-sampler.ts is imported only where it runs, so a Linux agent never loads systeminformation's
// sampling modules (their start-up code and state cost resident memory for nothing).
import { createLinuxSampler } from './linux-sampler.ts';
import type { Sampler } from './sampler.ts';
import { createSeriesCollectors, withSeriesCollectors, type SeriesCollectorOptions } from './series-collectors.ts';

/**
 * The OS sampler, with the collectors of labelled values `series` asks for after it. `info` gets
 * what is only a fact about the machine (no systemd here); default `log`.
 */
export function createSampler(
  log: (msg: string) => void = (msg) => console.warn(msg),
  series: SeriesCollectorOptions = {},
  info: (msg: string) => void = log,
): Sampler {
  const base = process.platform === 'linux' ? createLinuxSampler({ log }) : lazySystemInformationSampler(log);
  const logs = { warn: log, info };
  return withSeriesCollectors(base, createSeriesCollectors(series, logs), logs);
}

/** The systeminformation sampler, loaded at the first read. */
function lazySystemInformationSampler(log: (msg: string) => void): Sampler {
  let sampler: Promise<Sampler> | undefined;
  const load = () => (sampler ??= import('./si-sampler.ts').then((m) => m.createSystemInformationSampler({ log })));
  return {
    read: async (options) => (await load()).read(options),
    close: () => void sampler?.then((s) => s.close?.()),
  };
}
