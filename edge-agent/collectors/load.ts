// Load averages from /proc/loadavg ("0.52 0.58 0.59 1/234 5678": 1, 5 and 15 min, then
// running/total scheduling entities and the last pid).
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

export function createLoadCollector(procRoot: string): Collector {
  const path = `${procRoot}/loadavg`;
  const file = new KeptOpenFile(path, { singleRecord: true });
  return {
    name: 'load',
    collect(out: Reading) {
      const [one, five, fifteen] = file.read().split(' ', 3).map(Number);
      if (one === undefined || five === undefined || fifteen === undefined || ![one, five, fifteen].every(Number.isFinite)) {
        throw new Error(`${path}: expected three load averages`);
      }
      out.load_1 = one;
      out.load_5 = five;
      out.load_15 = fifteen;
    },
    close: () => file.close(),
  };
}
