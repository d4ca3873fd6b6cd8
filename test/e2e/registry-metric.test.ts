// A metric added to the registry alone (protocol/metrics.ts) reaches every part: in a copy of the
// source with one entry and one chart group more, and nothing else changed, an outside client sends
// the new wire key and finds the value stored, in the series API, rolled up, exported, on /metrics
// and drawn on the node page in headless Chromium.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encoder } from 'cbor-x';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_FIELDS, topics } from '../../protocol/index.ts';
import { launchBrowser, pageErrors } from '../helpers/browser.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { cleanup, REPO, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterAll(runCleanups);

const NEW_GROUP = `  { group: 'steal', title: 'CPU steal' },\n`;
/** The next free wire key: keys run 0…n−1 (test/protocol/protocol-doc.test.ts). */
const NEW_KEY = SAMPLE_FIELDS.length;
const NEW_METRIC = `  {
    name: 'cpu_steal_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'CPU time a hypervisor gave to other guests',
    wire: { key: ${NEW_KEY}, check: 'pct' },
    storage: 'real',
    chart: { group: 'steal', label: 'steal', color: '#111827' },
    prometheus: { name: 'remonitor_node_cpu_steal_ratio', scale: 0.01 },
    homeAssistant: null,
    alarms: true,
  },
`;

/** The source tree with the registry grown by NEW_METRIC, built; returns its CLI. */
function copyWithNewMetric(): string {
  const root = tempDir('remonitor-registry-');
  for (const dir of ['protocol', 'shared', 'edge-agent', 'auth', 'broker', 'hub', 'web', 'cli', 'scripts', 'bin'])
    cpSync(join(REPO, dir), join(root, dir), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(REPO, file), join(root, file));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  const registry = join(root, 'protocol/metrics.ts');
  const text = readFileSync(registry, 'utf8');
  const groupsEnd = text.indexOf('] as const;\nexport type ChartGroupName');
  const metricsEnd = text.indexOf('] as const satisfies readonly MetricSpec[];');
  expect(groupsEnd, 'the end of CHART_GROUPS').toBeGreaterThan(0);
  expect(metricsEnd, 'the end of METRICS').toBeGreaterThan(groupsEnd);
  writeFileSync(registry, text.slice(0, groupsEnd) + NEW_GROUP + text.slice(groupsEnd, metricsEnd) + NEW_METRIC + text.slice(metricsEnd));
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  return join(root, 'bin/remonitor.mjs');
}

describe('a metric added to the registry alone', () => {
  it('is stored, queried, rolled up, exported, on /metrics and drawn', async () => {
    const cli = copyWithNewMetric();

    const [http, mqttPort] = [await freePort(), await freePort()];
    spawnProcess(process.execPath, [
      cli,
      'up',
      '--insecure',
      '--no-agent',
      '--http-port',
      String(http),
      '--mqtt-port',
      String(mqttPort),
      '--data-dir',
      tempDir(),
    ]);
    const base = `http://127.0.0.1:${http}`;
    await waitFor('the hub answering', async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 30_000);

    // An outside client sends the new key beside the identity: CBOR map with integer keys.
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'steal-pi', reconnectPeriod: 0 });
    cleanup(() => client.endAsync());
    await client.publishAsync(topics.status('steal-pi'), 'online', { qos: 1, retain: true });
    const cbor = new Encoder({ mapsAsObjects: false, useRecords: false });
    const now = Date.now();
    for (let seq = 0; seq < 5; seq++) {
      const wire = new Map<number, unknown>([
        [0, 1],
        [1, 'b1'],
        [2, seq],
        [3, now - (4 - seq) * 1000],
        [NEW_KEY, 10 + seq],
      ]);
      await client.publishAsync(topics.metrics('steal-pi'), cbor.encode(wire), { qos: 1 });
    }

    const series = await waitFor('the raw series', async () => {
      const body = await (await fetch(`${base}/api/nodes/steal-pi/series?metrics=cpu_steal_pct&from=-10m`)).json();
      return body.data?.[1]?.filter((v: number | null) => v !== null).length === 5 ? body : null;
    });
    expect(series.metrics).toEqual(['cpu_steal_pct']);
    expect(series.data[1]).toEqual([10, 11, 12, 13, 14]);

    const csv = await (await fetch(`${base}/api/nodes/steal-pi/export?format=csv&metrics=cpu_steal_pct&from=-10m`)).text();
    expect(csv.split('\n')[0]).toContain('cpu_steal_pct');
    expect(csv).toMatch(/,14(\r?\n|$)/);

    const exposition = await (await fetch(`${base}/metrics`)).text();
    expect(exposition).toContain('# TYPE remonitor_node_cpu_steal_ratio gauge');
    expect(exposition).toContain('remonitor_node_cpu_steal_ratio{node="steal-pi"} 0.14');

    // The 1 min tier, from the maintenance run (every minute): the means of the minutes sent.
    await waitFor(
      'the 1 min rollup',
      async () => {
        const body = await (await fetch(`${base}/api/nodes/steal-pi/series?metrics=cpu_steal_pct&from=-3d&to=now&points=60`)).json();
        return body.resolution !== 'raw' && body.data?.[1]?.some((v: number | null) => v !== null && v >= 10 && v <= 14);
      },
      90_000,
      1000,
    );

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = pageErrors(page);
    await page.goto(`${base}/nodes/steal-pi`);
    const chart = page.locator('figure.chart[data-chart="steal"]');
    await chart.waitFor({ timeout: 15_000 });
    expect(await chart.locator('.chart-title').textContent()).toBe('CPU steal');
    await page.waitForFunction(() => Number(document.querySelector('figure.chart[data-chart="steal"]')?.getAttribute('data-points')) >= 5);
    expect(errors).toEqual([]);
  }, 180_000);
});
