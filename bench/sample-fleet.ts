// The simulated fleet the storage benches write: the same samples for every backend, and what
// "values" counts in their bytes-per-value figures.
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { encodeSample, type Sample } from '../protocol/index.ts';
import type { IncomingSample } from '../hub/storage/store.ts';

/** Numbers a sample carries: what "bytes per value" divides by. */
export function countValues(s: Sample): number {
  let n = 0;
  for (const [key, v] of Object.entries(s)) {
    if (key === 'v' || key === 'boot' || key === 'seq' || key === 'ts_ms') continue;
    if (typeof v === 'number') n++;
  }
  n += s.cpu_core_pct?.length ?? 0;
  n += (s.filesystems?.length ?? 0) * 3;
  n += (s.net?.length ?? 0) * 2;
  n += ((s.top_cpu?.length ?? 0) + (s.top_mem?.length ?? 0)) * 4;
  return n;
}

/** `nodes` simulated nodes named sim-0000…, seeded 1…, deterministic. */
export function simulatedFleet(nodes: number, startMs: number): SimulatedNode[] {
  return Array.from({ length: nodes }, (_, i) => new SimulatedNode(`sim-${String(i).padStart(4, '0')}`, i + 1, startMs));
}

/** One step of the whole fleet: every node's sample at `ts` (ms), encoded as ingest receives it. */
export function fleetStep(fleet: readonly SimulatedNode[], ts: number): { items: IncomingSample[]; values: number } {
  let values = 0;
  const items = fleet.map((node) => {
    const sample = node.next(ts);
    values += countValues(sample);
    return { node: node.name, sample, raw: encodeSample(sample) };
  });
  return { items, values };
}
