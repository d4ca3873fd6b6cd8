// What a sampler gives the agent: every measured field of a sample, without its identity.
import type { Sample } from '../protocol/index.ts';

export type Reading = Omit<Sample, 'v' | 'boot' | 'seq' | 'ts_ms'>;

export interface SampleOptions {
  /** Read the process list too (top_cpu, top_mem and the count of processes): it costs more, so it runs less often. */
  processes: boolean;
}

export interface Sampler {
  /** Reads the machine now. Rates (CPU %, bytes/s) are against the previous call; the first call omits them. */
  read(options: SampleOptions): Promise<Reading>;
  /** Releases what the sampler keeps open between reads (file descriptors); it is not read again. */
  close?(): void;
}
