// `remonitor simulate` with its default scenarios against a hub with the default alarm rules: the
// demo's promise that alarms show within about two minutes, through the real broker, ingest, alarm
// engine and API. Timed from the start of the live part to each alarm's transition (its since_ms).
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulation, simulateSpec } from '../../cli/simulate.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import { getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

// The bound the demo claims: two minutes, and a few seconds for the hub to hear of it.
const DEMO_BOUND_MS = 150_000;

/** The alarms each scenario node must raise with the default rules: node, rule, state. */
const EXPECTED = [
  ['demo-0000', 'disk', 'red'],
  ['demo-0001', 'memory', 'red'],
  ['demo-0002', 'throttled', 'red'],
  ['demo-0002', 'temperature', 'red'],
  ['demo-0003', 'offline', 'offline'],
  ['demo-0004', 'clock', 'red'],
] as const;

describe('remonitor simulate: the default scenarios', () => {
  it(
    'raise their alarms under the default rules within two minutes',
    async () => {
      const { url } = await startBroker();
      const { api } = await startHub(url);
      const stop = new AbortController();
      const run = runSimulation({
        nodes: 7,
        intervalMs: 1000,
        broker: url,
        durationMs: 170_000,
        connections: 2,
        prefix: 'demo',
        scenarios: simulateSpec.scenarios.default,
        signal: stop.signal,
      });
      const since = new Map<string, number>();
      const key = (node: string, rule: string, state: string) => `${node} ${rule} ${state}`;
      let others: string[] = [];
      try {
        await waitFor(
          'every scenario alarm',
          async () => {
            const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms`);
            for (const a of body.alarms) if (!since.has(key(a.node, a.rule_id, a.state))) since.set(key(a.node, a.rule_id, a.state), a.since_ms);
            others = body.alarms.filter((a) => a.node === 'demo-0006').map((a) => key(a.node, a.rule_id, a.state));
            return EXPECTED.every(([n, r, s]) => since.has(key(n, r, s)));
          },
          DEMO_BOUND_MS + 20_000,
          1000,
        );
      } finally {
        stop.abort();
      }
      const { liveStartMs } = await run;
      const after = Object.fromEntries(EXPECTED.map(([n, r, s]) => [key(n, r, s), since.get(key(n, r, s))! - liveStartMs]));
      console.log(`alarms of the default scenarios, ms after the live start: ${JSON.stringify(after)}`);
      for (const [alarm, ms] of Object.entries(after)) expect(ms, alarm).toBeLessThanOrEqual(DEMO_BOUND_MS);
      // The node without a scenario stays quiet (demo-0005, warming, goes AMBER only after about 7 minutes).
      expect(others).toEqual([]);
    },
    DEMO_BOUND_MS + 60_000,
  );
});
