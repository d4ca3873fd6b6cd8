// `remonitor up` as a user starts it, looked at in headless Chromium: the first start prints the
// admin login, the browser signs in with it, the fleet page shows this machine's card, the node
// page draws its charts and they grow as samples arrive.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { REPO, runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

const SHOTS = join(REPO, 'test-results');

describe('dashboard of remonitor up', () => {
  it('shows the node card, four drawn charts, and a chart that grows', async () => {
    const { url, admin } = await startUp();
    const browser = await launchBrowser();
    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    const card = page.locator('a.card[data-status="online"]').first();
    await card.waitFor({ timeout: 20_000 });
    const node = (await card.getAttribute('data-node'))!;
    await expect.poll(() => card.locator('[data-field="cpu"]').textContent(), { timeout: 10_000 }).toMatch(/\d+(\.\d)?\s?%/);
    const spark = card.locator('.spark[data-spark="cpu"] .uplot canvas');
    await spark.waitFor({ timeout: 10_000 });
    // uPlot's stylesheet comes with the cards view, not with fleet.html: its rules apply to the chart (a canvas is inline without them).
    expect(await spark.evaluate((el) => getComputedStyle(el).display)).toBe('block');
    expect(await page.locator('#count').textContent()).toMatch(/1 node.*1 online/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'fleet.png') });

    await card.click();
    await page.waitForURL(`**/nodes/${node}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    for (const chart of ['cpu', 'mem', 'swap', 'disk']) {
      const canvas = page.locator(`figure.chart[data-chart="${chart}"] .uplot canvas`);
      await canvas.waitFor({ timeout: 10_000 });
      // Drawn: the canvas has painted pixels (axes, grid and series), not a blank surface.
      const painted = await canvas.evaluate((el: HTMLCanvasElement) => {
        const { data } = el.getContext('2d')!.getImageData(0, 0, el.width, el.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
      expect(painted, `${chart} chart has painted pixels`).toBeGreaterThan(500);
    }
    const cpuChart = page.locator('figure.chart[data-chart="cpu"]');
    await expect.poll(async () => Number(await cpuChart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);
    const before = Number(await cpuChart.getAttribute('data-points'));
    await expect.poll(async () => Number(await cpuChart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(before + 2);
    expect(await page.locator('table[data-procs="cpu"] tbody tr[data-pid]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'node.png'), fullPage: true });
    // `UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/dashboard.browser.test.ts` refreshes the README's picture.
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      await page.screenshot({ path: join(REPO, 'docs/dashboard.png') });
    }
    expect(errors).toEqual([]);
  });
});
