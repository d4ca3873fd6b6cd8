// The alarm views in a real browser (Debian chromium): the alarms page lists a RED alarm and
// acknowledges and silences it, the fleet card turns red, the node page marks its chart. Real
// broker, hub and agent; the agent's OS sampler is replaced by a scripted one (a disk over 80 %).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/agent.ts';
import { HubService } from '../../cli/hub-service.ts';
import type { NodeInfo } from '../../protocol/index.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { cleanup, getJson, quietLog, REPO, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);
const SHOTS = join(REPO, 'test-results');

const birth = async (): Promise<NodeInfo> => ({
  v: 1,
  agent_version: 'test',
  hostname: 'stub-host',
  os: 'Stub OS',
  kernel: '6.1',
  arch: 'arm64',
  cpu_model: 'Cortex-A72',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: 0,
  interval_ms: 250,
});

describe('alarm views', () => {
  it('shows, acknowledges and silences a RED alarm, and colours the fleet card and the node chart', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'alarm-rules.json'),
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'disk', metric: 'fs_pct', threshold: 80, for: '500ms', window: '500ms', trend_window: '5s' },
          { id: 'offline', metric: 'offline' },
        ],
      }),
    );
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, alarms: { tickMs: 200 } });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;
    const sampler = scriptedSampler(() => ({ cpu_pct: 12, mem_pct: 40, filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 29e9, used_pct: 91 }] }));
    const agent = new Agent({ brokerUrl: url, node: 'pi-full', intervalMs: 250, processIntervalMs: 60_000, sampler, birthRecord: birth, log: quietLog });
    await agent.start();
    cleanup(() => agent.stop());
    await waitFor('RED', async () => (await getJson(`${api}/api/alarms`)).body.alarms.some((a: { state: string }) => a.state === 'red'));

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    await page.goto(`${api}/alarms`);
    const row = page.locator('#active tr[data-node="pi-full"][data-rule="disk"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-state')).toBe('red');
    await row.locator('button[data-action="ack"]').click();
    await page.locator('#active tr[data-node="pi-full"][data-acked="true"]').waitFor({ timeout: 10_000 });
    await page.locator('#active tr[data-node="pi-full"] button[data-action="silence"]').click();
    await page.fill('#silence-reason', 'disk being replaced');
    await page.click('#silence-form button[type="submit"]');
    await page.locator('#silences tbody tr td', { hasText: 'pi-full' }).first().waitFor({ timeout: 10_000 });
    await page.locator('#history tr[data-node="pi-full"]').first().waitFor({ timeout: 10_000 });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'alarms.png'), fullPage: true });

    await page.goto(`${api}/`);
    await page.locator('a.card[data-node="pi-full"][data-alarm="red"]').waitFor({ timeout: 10_000 });

    await page.goto(`${api}/nodes/pi-full`);
    await page.locator('figure.chart[data-chart="disk"][data-alarm="red"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('body').getAttribute('data-alarm')).toBe('red');
    await page.screenshot({ path: join(SHOTS, 'node-alarm.png') });

    // A disk filling at 2 %/s from 50 %: AMBER within seconds, crossing 15 s after the start. The
    // node page marks the chart and draws the predicted line (looked at in node-amber.png).
    const filling = new Agent({
      brokerUrl: url,
      node: 'pi-filling',
      intervalMs: 250,
      processIntervalMs: 60_000,
      birthRecord: birth,
      log: quietLog,
      sampler: scriptedSampler((i) => ({ filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 0, used_pct: Math.min(99, 50 + i * 0.5) }] })),
    });
    await filling.start();
    cleanup(() => filling.stop());
    await waitFor('AMBER', async () => (await getJson(`${api}/api/alarms?node=pi-filling`)).body.alarms.some((a: { state: string }) => a.state === 'amber'));
    await page.goto(`${api}/nodes/pi-filling`);
    await page.locator('figure.chart[data-chart="disk"][data-alarm="amber"]').waitFor({ timeout: 5000 });
    await page.locator('figure.chart[data-chart="disk"]').screenshot({ path: join(SHOTS, 'node-amber.png') });
    expect(errors).toEqual([]);
  });
});
