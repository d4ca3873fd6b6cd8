// Time since boot from /proc/uptime ("12345.67 45000.12": seconds up, then idle seconds summed
// over all cores).
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

export function createUptimeCollector(procRoot: string): Collector {
  const path = `${procRoot}/uptime`;
  const file = new KeptOpenFile(path, { singleRecord: true });
  return {
    name: 'uptime',
    collect(out: Reading) {
      const text = file.read();
      const seconds = Number(text.slice(0, text.indexOf(' ')));
      if (!(seconds >= 0)) throw new Error(`${path}: expected seconds since boot`);
      out.uptime_s = Math.floor(seconds); // the wire field is a whole number of seconds
    },
    close: () => file.close(),
  };
}
