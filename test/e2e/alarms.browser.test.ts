// The alarm views in a real browser (Debian chromium): the alarms page lists a RED alarm and
// acknowledges and silences it, the fleet card turns red, the node page marks its chart. Real
// broker, hub and agent; the agent's OS sampler is replaced by a scripted one (a disk over 80 %).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from '../helpers/browser.ts';
import { getJson, REPO, runCleanups, startHubWithRules, waitFor } from '../helpers/parts.ts';
import { startScriptedAgent } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);
const SHOTS = join(REPO, 'test-results');

describe('alarm views', () => {
  it('shows, acknowledges and silences a RED alarm, and colours the fleet card and the node chart', async () => {
    const { url, api } = await startHubWithRules([
      { id: 'disk', metric: 'fs_pct', threshold: 80, for: '500ms', window: '500ms', trend_window: '5s' },
      { id: 'offline', metric: 'offline' },
    ]);
    await startScriptedAgent(url, 'pi-full', () => ({
      cpu_pct: 12,
      mem_pct: 40,
      filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 29e9, used_pct: 91 }],
    }));
    await waitFor('RED', async () => (await getJson(`${api}/api/alarms`)).body.alarms.some((a: { state: string }) => a.state === 'red'));

    const browser = await launchBrowser();
    const { page, errors } = await openPage(browser, { viewport: { width: 1280, height: 800 } });

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
    await startScriptedAgent(url, 'pi-filling', (i) => ({
      filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 0, used_pct: Math.min(99, 50 + i * 0.5) }],
    }));
    await waitFor('AMBER', async () => (await getJson(`${api}/api/alarms?node=pi-filling`)).body.alarms.some((a: { state: string }) => a.state === 'amber'));
    await page.goto(`${api}/nodes/pi-filling`);
    await page.locator('figure.chart[data-chart="disk"][data-alarm="amber"]').waitFor({ timeout: 5000 });
    await page.locator('figure.chart[data-chart="disk"]').screenshot({ path: join(SHOTS, 'node-amber.png') });
    expect(errors).toEqual([]);
  });
});
