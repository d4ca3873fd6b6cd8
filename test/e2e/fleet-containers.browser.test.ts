// The fleet table's Containers column in a real browser (Debian chromium) against a real broker and
// hub: absent while no node runs containers, there once samples bring container series (through
// the live stream), then from /api/nodes after a reload; a node's running count and busiest
// containers, sorted by the header, found by a container's name in the text filter, at 1400 px and
// at 390 px without the page scrolling sideways. The nodes are made up (test/helpers/fake-fleet.ts).
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabelledValue } from '../../protocol/index.ts';
import type { FleetNodesResponse, NodesResponse } from '../../shared/api-types.ts';
import { launchBrowser, pageErrors } from '../helpers/browser.ts';
import { feedFleet, fleetName, publishFleet, type FakeNode } from '../helpers/fake-fleet.ts';
import { getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const COUNT = 40;
/** Nodes 0…9 run containers: web (CPU 40 + i), db (12), postgres on the even ones, and an exited job. */
const WITH_CONTAINERS = 10;

function containerSeries(i: number): LabelledValue[] {
  const out: LabelledValue[] = [];
  const add = (container: string, cpu: number | null, running: 0 | 1) => {
    const labels = { container, image: `${container}:latest` };
    if (cpu !== null) out.push({ name: 'container_cpu_pct', labels, value: cpu });
    out.push({ name: 'container_mem_bytes', labels, value: 50e6 });
    out.push({ name: 'container_running', labels, value: running });
  };
  add('web', 40 + i, 1);
  add('db', 12, 1);
  if (i % 2 === 0) add('postgres', 5, 1);
  add('old-job', null, 0);
  return out;
}

const cellText = (i: number) => (i % 2 === 0 ? `3 · web ${40 + i} %, db 12 %` : `2 · web ${40 + i} %, db 12 %`);

/** The table's rows on screen, top to bottom, with their Containers cell. */
async function rowsInOrder(page: Page): Promise<{ node: string; containers: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.ft-row:not([hidden])')]
      .map((r) => ({
        y: new DOMMatrix(getComputedStyle(r).transform).m42,
        node: r.dataset['node'] ?? '',
        containers: r.querySelector('[data-col="containers"]')?.textContent ?? '',
      }))
      .sort((a, b) => a.y - b.y)
      .map(({ y: _y, ...row }) => row),
  );
}

const columnShown = (page: Page) => page.locator('.ft-th[data-sort="containers"]').isVisible();

describe('containers on the fleet table', () => {
  it('shows each node’s running containers, sorts and filters by them, and is absent without any', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const plain: FakeNode[] = Array.from({ length: COUNT }, (_, i) => ({ name: fleetName(i), status: 'online', sample: () => ({ cpu_pct: i }) }));
    const client = await publishFleet(url, plain);
    await waitFor('the fleet stored', async () => (await getJson<NodesResponse>(`${api}/api/nodes`)).body.nodes.length === COUNT);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = pageErrors(page);
    await page.goto(`${api}/?view=table`);
    await page.locator('body[data-ready="true"] .ft-row[data-node]').first().waitFor({ timeout: 15_000 });
    expect(await columnShown(page), 'no node runs containers: no column').toBe(false);
    expect(await page.locator('.ft-row:not([hidden]) [data-col="containers"]:visible').count()).toBe(0);

    // Samples with container series arrive: the column comes with the live stream.
    const running: FakeNode[] = plain.slice(0, WITH_CONTAINERS).map((n, i) => ({ ...n, sample: () => ({ cpu_pct: i, series: containerSeries(i) }) }));
    const stop = feedFleet(client, running, 300);
    try {
      await expect.poll(() => columnShown(page), { timeout: 15_000 }).toBe(true);
      await expect.poll(async () => (await rowsInOrder(page)).find((r) => r.node === fleetName(3))?.containers, { timeout: 10_000 }).toBe(cellText(3));

      // Most containers first, then the busiest; nodes without any last.
      await page.click('.ft-th[data-sort="containers"]');
      expect(await page.locator('.ft-th[data-sort="containers"]').getAttribute('aria-sort')).toBe('descending');
      const order = [8, 6, 4, 2, 0, 9, 7, 5, 3, 1];
      await expect
        .poll(async () => (await rowsInOrder(page)).slice(0, 11).map((r) => r.node), { timeout: 10_000 })
        .toEqual([...order.map(fleetName), fleetName(10)]);
      expect(new URL(page.url()).searchParams.get('sort')).toBe('containers');

      // A container's name finds the nodes running it; an exited one finds nothing.
      await page.fill('#filter', 'postgres');
      await expect.poll(async () => (await rowsInOrder(page)).map((r) => r.node), { timeout: 10_000 }).toEqual([8, 6, 4, 2, 0].map(fleetName));
      await page.fill('#filter', 'old-job');
      await expect.poll(async () => (await rowsInOrder(page)).length, { timeout: 10_000 }).toBe(0);
      await page.fill('#filter', '');

      // The summaries carry them too, so a reload shows them before any new sample.
      const lean = (await getJson<FleetNodesResponse>(`${api}/api/nodes?fields=fleet`)).body;
      const two = lean.nodes.find((n) => n.name === fleetName(2))!;
      expect(two.containers?.running).toBe(3);
      expect(two.containers?.top.map((c) => c.name)).toEqual(['web', 'db', 'postgres']);
      expect(lean.nodes.find((n) => n.name === fleetName(20))!.containers).toBeUndefined();
      const full = (await getJson<NodesResponse>(`${api}/api/nodes`)).body;
      expect(full.nodes.find((n) => n.name === fleetName(2))!.containers).toEqual(two.containers);
      const bad = await getJson(`${api}/api/nodes?fields=everything`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('fields');
    } finally {
      stop();
    }
    await page.reload();
    await page.locator('body[data-ready="true"] .ft-row[data-node]').first().waitFor({ timeout: 15_000 });
    expect(await columnShown(page)).toBe(true);
    expect((await rowsInOrder(page)).slice(0, 3).map((r) => r.containers)).toEqual([8, 6, 4].map(cellText));
    const title = await page.locator(`.ft-row[data-node="${fleetName(8)}"] [data-col="containers"]`).getAttribute('title');
    expect(title).toContain('3 running');
    expect(title).toContain('postgres 5 %');

    // Phone width: the table scrolls inside its box, the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - innerWidth), { timeout: 5_000 }).toBeLessThanOrEqual(0);
    expect((await rowsInOrder(page)).find((r) => r.node === fleetName(8))?.containers).toBe(cellText(8));
    expect(errors).toEqual([]);
  }, 120_000);
});
