// The node page's Containers section in a real browser (Debian chromium) against a real broker and
// hub: a node whose samples carry container series lists them (running first, then by CPU) with
// their image, state, CPU and memory (and % of the limit when there is one), follows newer samples,
// and a click on a container's CPU draws container_cpu_pct in the labelled chart with that
// container's line alone; a node without containers has no section; at 390 px in the dark theme the
// page does not scroll sideways. The nodes are made up (test/helpers/fake-fleet.ts).
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabelledValue } from '../../protocol/index.ts';
import type { NodesResponse } from '../../shared/api-types.ts';
import { launchBrowser, pageErrors } from '../helpers/browser.ts';
import { feedFleet, publishFleet, type FakeNode } from '../helpers/fake-fleet.ts';
import { getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const MiB = 1024 * 1024;

/** db listed first, so the page's order (web, the busier, first; the stopped job last) is its own doing. */
function containerSeries(webCpu: number): LabelledValue[] {
  const c = (container: string) => ({ container, image: `${container}-image:1.2` });
  return [
    { name: 'container_cpu_pct', labels: c('db'), value: 5 },
    { name: 'container_mem_bytes', labels: c('db'), value: 8 * MiB },
    { name: 'container_running', labels: c('db'), value: 1 },
    { name: 'container_mem_bytes', labels: c('old-job'), value: 1 * MiB },
    { name: 'container_running', labels: c('old-job'), value: 0 },
    { name: 'container_cpu_pct', labels: c('web'), value: webCpu },
    { name: 'container_mem_bytes', labels: c('web'), value: 64 * MiB },
    { name: 'container_mem_pct', labels: c('web'), value: 25 },
    { name: 'container_running', labels: c('web'), value: 1 },
  ];
}

/** The Containers table as shown: one array of cell texts per row, top to bottom. */
const tableRows = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll('#containers tbody tr')].map((tr) => [...(tr as HTMLTableRowElement).cells].map((td) => td.textContent)));

const sectionShown = (page: Page) => page.locator('#containers').isVisible();

async function openNode(page: Page, api: string, node: string): Promise<void> {
  await page.goto(`${api}/nodes/${node}`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
}

describe('containers on the node page', () => {
  it('lists a node’s containers, follows new samples, charts one on a click, and is absent without any', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const boxed: FakeNode = { name: 'boxed', status: 'online', sample: () => ({ cpu_pct: 20, series: containerSeries(37.5) }) };
    const plain: FakeNode = { name: 'plain', status: 'online', sample: () => ({ cpu_pct: 10 }) };
    const client = await publishFleet(url, [boxed, plain]);
    await waitFor('both nodes stored', async () => (await getJson<NodesResponse>(`${api}/api/nodes`)).body.nodes.length === 2);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = pageErrors(page);

    await openNode(page, api, 'plain');
    expect(await sectionShown(page), 'a node without containers: no section').toBe(false);
    expect(await page.locator('#containers tbody tr').count()).toBe(0);

    await openNode(page, api, 'boxed');
    await expect.poll(() => sectionShown(page), { timeout: 10_000 }).toBe(true);
    expect(await tableRows(page)).toEqual([
      ['web', 'web-image:1.2', 'running', '37.5 %', '64.0 MiB · 25.0 %'],
      ['db', 'db-image:1.2', 'running', '5.0 %', '8.00 MiB'],
      ['old-job', 'old-job-image:1.2', 'stopped', '—', '1.00 MiB'],
    ]);
    expect(await page.locator('#containers-meta').textContent()).toBe('2 of 3 running');

    // Newer samples: the list follows them without a reload (its periodic refresh).
    const stop = feedFleet(client, [{ ...boxed, sample: () => ({ cpu_pct: 20, series: containerSeries(2) }) }], 500);
    try {
      await expect
        .poll(async () => (await tableRows(page)).map((r) => [r[0], r[3]]), { timeout: 30_000 })
        .toEqual([
          ['db', '5.0 %'],
          ['web', '2.0 %'],
          ['old-job', '—'],
        ]);
    } finally {
      stop();
    }

    // web's CPU: the labelled chart draws container_cpu_pct, web's line alone.
    const labelledChart = page.locator('#labelled figure[data-chart="labelled"]');
    await page.locator('#containers tr[data-container="web"] [data-metric="container_cpu_pct"]').click();
    await expect.poll(() => labelledChart.getAttribute('data-metric'), { timeout: 10_000 }).toBe('container_cpu_pct');
    expect(await page.locator('#labelled select').inputValue()).toBe('container_cpu_pct');
    await expect.poll(() => labelledChart.getAttribute('data-focus'), { timeout: 10_000 }).toBe('web');
    expect(Number(await labelledChart.getAttribute('data-series')), 'db, old-job (no CPU) and web have lines').toBe(2);
    const shownLines = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#labelled .u-legend .u-series')]
          .filter((s) => !s.classList.contains('u-off'))
          .map((s) => s.textContent?.trim() ?? '')
          .filter((t) => t.includes('container=')),
      );
    const lines = await shownLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('container=web');

    // Memory of db: the picker moves on, db alone.
    await page.locator('#containers tr[data-container="db"] [data-metric="container_mem_bytes"]').click();
    await expect.poll(() => labelledChart.getAttribute('data-focus'), { timeout: 10_000 }).toBe('db');
    expect(await labelledChart.getAttribute('data-metric')).toBe('container_mem_bytes');
    expect(await page.locator('#labelled select').inputValue()).toBe('container_mem_bytes');

    // Phone width, dark theme: the page does not scroll sideways, the table's box is the dark panel.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    await openNode(page, api, 'boxed');
    await expect.poll(() => sectionShown(page), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - innerWidth), { timeout: 5_000 }).toBeLessThanOrEqual(0);
    const box = await page.locator('#containers .containers-scroll').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await page.locator('#containers .containers-scroll').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(24, 28, 34)');
    // The image column gives way, so the figures fit without scrolling inside the box either.
    expect(await page.locator('#containers .containers-scroll').evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    expect((await tableRows(page))[0]?.[0]).toBe('db');
    expect(errors).toEqual([]);
  }, 120_000);
});
