// The hub's longest event-loop stall under load with rollups and purges running: the hub runs in
// this process (broker embedded) over a database preloaded with history, `remonitor simulate`
// drives a fleet from another process, and rollups and purges run back to back the whole time.
// Prints the event loop's max and p99 delay, and the ingest figures. Figures only.
// Run: npm run build && node scripts/run-ts.mjs bench/hub-stall.ts [--nodes 200] [--seconds 30]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EmbeddedBroker } from '../broker/broker.ts';
import { createLogger } from '../shared/logger.ts';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { HubService } from '../cli/hub-service.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '30' },
    'history-h': { type: 'string', default: '2' },
    'no-upkeep': { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes);
const seconds = Number(values.seconds);
const historyH = Number(values['history-h']);
const log = createLogger('silent');
const dataDir = mkdtempSync(join(tmpdir(), 'remonitor-bench-stall-'));

const broker = new EmbeddedBroker({ port: 0, log });
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log, alarms: false });

// History for the rollups to chew on: `history-h` hours of 1 s samples for every node.
const started = Date.now();
const fleet = Array.from({ length: nodes }, (_, i) => new SimulatedNode(`sim-${String(i).padStart(4, '0')}`, i + 1, Date.now() - historyH * 3_600_000));
for (let t = 0; t < historyH * 3600; t += 10) {
  const batch = [];
  for (const node of fleet)
    for (let k = 0; k < 10; k++) {
      const sample = node.next(Date.now() - historyH * 3_600_000 + (t + k) * 1000);
      if (sample) batch.push({ node: node.name, sample, raw: new Uint8Array() });
    }
  hub.store.insertBatch(batch);
}
console.log(`preloaded ${nodes} nodes × ${historyH} h in ${((Date.now() - started) / 1000).toFixed(1)} s`);

await hub.start();
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
let running = true;
let rollupRuns = 0;
const pause = () => yieldToLoop().then(() => undefined);
const upkeep = (async () => {
  while (running && !values['no-upkeep']) {
    await hub.store.deriveRollups(pause);
    await hub.store.purgeExpired(pause);
    rollupRuns++;
    await sleep(100);
  }
})();
const sim = spawn(
  process.execPath,
  [
    new URL('../bin/remonitor.mjs', import.meta.url).pathname,
    'simulate',
    '--nodes',
    String(nodes),
    '--interval',
    '1s',
    '--broker',
    url,
    '--duration',
    `${seconds}s`,
    '--prefix',
    'live',
    '--scenarios',
    'none',
  ],
  { stdio: 'ignore' },
);
await new Promise((r) => sim.once('exit', r));
running = false;
await upkeep;
delay.disable();
console.log(
  `hub event loop over ${seconds} s, ${nodes} nodes at 1 Hz, rollups+purges run ${rollupRuns} times back to back: ` +
    `max stall ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; stored ${hub.ingest.stats.stored}, duplicates ${hub.ingest.stats.duplicates}`,
);
await hub.stop();
await broker.stop();
rmSync(dataDir, { recursive: true, force: true });
