// Picks the agent's sampler: direct /proc reads on Linux, systeminformation everywhere else.
import { createLinuxSampler } from './linux-sampler.ts';
import type { Sampler } from './sampler.ts';
import { createSystemInformationSampler } from './si-sampler.ts';

export function createSampler(log: (msg: string) => void = (msg) => console.warn(msg)): Sampler {
  return process.platform === 'linux' ? createLinuxSampler({ log }) : createSystemInformationSampler({ log });
}
