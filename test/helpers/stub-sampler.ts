// A Sampler that returns scripted readings. It stands in for the OS (what /proc would say), so a
// test can check that exactly these values travel through broker, hub and SQLite.
import type { Reading, Sampler } from '../../edge-agent/sampler.ts';

export function scriptedSampler(readings: (i: number) => Reading): Sampler & { calls: number } {
  const sampler = {
    calls: 0,
    async read() {
      return readings(sampler.calls++);
    },
  };
  return sampler;
}
