// The fleet table in a real browser (Debian chromium) against a real broker and hub: problems
// first by default, sorting by a header, filtering by text, state and the header's counts, the
// view kept in the URL through a reload; with 1,000 nodes only the rows on screen exist, and the
// time to interactive, a sort and the frame rate under a live feed are printed (not asserted).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, pageErrors } from '../helpers/browser.ts';
import { feedFleet, fleetName, publishFleet, type FakeNode } from '../helpers/fake-fleet.ts';
import { getJson, runCleanups, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

/** The table's rows on screen, top to bottom (they are placed by transform, not in DOM order). */
async function rowsInOrder(page: Page): Promise<{ node: string; alarm: string; status: string; cpu: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.ft-row:not([hidden])')]
      .map((r) => ({
        y: new DOMMatrix(getComputedStyle(r).transform).m42,
        node: r.dataset['node'] ?? '',
        alarm: r.dataset['alarm'] ?? '',
        status: r.dataset['status'] ?? '',
        cpu: r.querySelector('[data-col="cpu"]')?.textContent ?? '',
      }))
      .sort((a, b) => a.y - b.y)
      .map(({ y: _y, ...row }) => row),
  );
}

const pct = (text: string): number => Number.parseFloat(text);

async function hubWithRules(): Promise<{ url: string; api: string }> {
  const { url } = await startBroker();
  const dataDir = tempDir();
  writeFileSync(
    join(dataDir, 'alarm-rules.json'),
    JSON.stringify({ version: 1, rules: [{ id: 'cpu', metric: 'cpu_pct', threshold: 95, for: '500ms', window: '500ms', trend_window: '20s' }] }),
  );
  const { api } = await startHub(url, dataDir, { alarms: { tickMs: 200 } });
  return { url, api };
}

describe('fleet table', () => {
  it('shows problems first, sorts, filters by text, state and counts, and keeps the view in the URL', async () => {
    const { url, api } = await hubWithRules();
    const RED = [fleetName(10), fleetName(20)];
    const AMBER = fleetName(30);
    const OFFLINE = [40, 41, 42, 43, 44, 45].map(fleetName);
    const fleet: FakeNode[] = Array.from({ length: 60 }, (_, i) => {
      const name = fleetName(i);
      if (RED.includes(name)) return { name, status: 'online', sample: () => ({ cpu_pct: 99 }) };
      // Rising 0.5 %/s from 60 %: a trend that crosses 95 % in about a minute, AMBER until then.
      if (name === AMBER) return { name, status: 'online', sample: (seq) => ({ cpu_pct: 60 + seq * 0.1 }) };
      return { name, status: OFFLINE.includes(name) ? 'offline' : 'online', sample: () => ({ cpu_pct: (i * 37) % 90 }) };
    });
    const client = await publishFleet(url, fleet);
    const stop = feedFleet(
      client,
      fleet.filter((n) => RED.includes(n.name) || n.name === AMBER),
      200,
    );
    try {
      await waitFor(
        'two RED alarms and one AMBER',
        async () => {
          const alarms = (await getJson(`${api}/api/alarms`)).body.alarms as { node: string; state: string }[];
          return alarms.filter((a) => a.state === 'red').length === 2 && alarms.some((a) => a.node === AMBER && a.state === 'amber');
        },
        30_000,
      );

      const browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors = pageErrors(page);
      await page.goto(`${api}/`);
      await page.locator('body[data-ready="true"][data-view="table"]').waitFor({ timeout: 15_000 });
      await expect.poll(() => page.locator('[data-count="red"]').textContent(), { timeout: 10_000 }).toBe('2');
      expect(await page.locator('[data-count="amber"]').textContent()).toBe('1');
      expect(await page.locator('[data-count="offline"]').textContent()).toBe('6');

      // Problems first: RED, then AMBER, then offline, then the rest by name.
      await expect
        .poll(async () => (await rowsInOrder(page)).slice(0, 10).map((r) => r.node), { timeout: 10_000 })
        .toEqual([...RED, AMBER, ...OFFLINE, fleetName(0)]);
      expect(await page.locator('.ft-row:not([hidden])').count(), 'only the rows on screen').toBeLessThan(60);

      // The first paint makes no date formatter: "last seen" gets its date as a title when the
      // pointer comes over it, and the header names the local zone once the page is idle.
      const seen = page.locator(`.ft-row[data-node="${RED[0]}"] [data-col="seen"]`);
      expect(await seen.getAttribute('title')).toBeFalsy();
      await seen.hover();
      await expect.poll(() => seen.getAttribute('title'), { timeout: 5_000 }).toMatch(/20\d\d/);
      await expect.poll(() => page.locator('header .zone-switch button[data-zone="local"]').textContent(), { timeout: 10_000 }).toMatch(/^Local \(.+\)$/);

      // A count filters to its nodes; clicked again, shows all.
      await page.click('[data-state-filter="red"]');
      expect((await rowsInOrder(page)).map((r) => r.node)).toEqual(RED);
      expect(new URL(page.url()).searchParams.get('state')).toBe('red');
      await page.click('[data-state-filter="offline"]');
      expect((await rowsInOrder(page)).map((r) => r.status)).toEqual(OFFLINE.map(() => 'offline'));
      await page.click('[data-state-filter="offline"]');
      expect(new URL(page.url()).searchParams.get('state')).toBeNull();

      // CPU header: highest first, then lowest first; the time of the click to the drawn rows is printed.
      const sortMs = await page.evaluate(() => {
        const t0 = performance.now();
        document.querySelector<HTMLElement>('.ft-th[data-sort="cpu"]')!.click();
        return performance.now() - t0;
      });
      console.log(`fleet table, 60 nodes: sort by CPU ${sortMs.toFixed(1)} ms`);
      const desc = (await rowsInOrder(page)).map((r) => pct(r.cpu)).filter((v) => !Number.isNaN(v));
      expect(desc.length).toBeGreaterThan(10);
      expect(desc).toEqual([...desc].sort((a, b) => b - a));
      expect(desc[0]).toBe(99);
      await page.click('.ft-th[data-sort="cpu"]');
      const asc = (await rowsInOrder(page)).map((r) => pct(r.cpu)).filter((v) => !Number.isNaN(v));
      expect(asc).toEqual([...asc].sort((a, b) => a - b));
      expect(await page.locator('.ft-th[data-sort="cpu"]').getAttribute('aria-sort')).toBe('ascending');

      // Text (name, host, OS…) and state together, then through a reload.
      await page.fill('#filter', 'fleet-004');
      const cpuOf = (i: number) => (i * 37) % 90;
      const byCpu = Array.from({ length: 10 }, (_, k) => 40 + k).sort((a, b) => cpuOf(a) - cpuOf(b) || a - b);
      expect((await rowsInOrder(page)).map((r) => r.node)).toEqual(byCpu.map(fleetName));
      await page.selectOption('#state-filter', 'offline');
      expect((await rowsInOrder(page)).map((r) => r.node).sort()).toEqual(OFFLINE);
      const search = new URL(page.url()).searchParams;
      expect(Object.fromEntries(search)).toEqual({ sort: 'cpu', dir: 'asc', q: 'fleet-004', state: 'offline' });
      await page.reload();
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.inputValue('#filter')).toBe('fleet-004');
      expect(await page.inputValue('#state-filter')).toBe('offline');
      expect(await page.locator('.ft-th[data-sort="cpu"]').getAttribute('aria-sort')).toBe('ascending');
      expect(await page.locator('[data-state-filter="offline"]').getAttribute('aria-pressed')).toBe('true');
      expect((await rowsInOrder(page)).map((r) => r.node).sort()).toEqual(OFFLINE);

      // The cards view, by the toggle, also kept in the URL; the filter applies there too.
      await page.click('[data-view="cards"]');
      await page.locator('a.card[data-node]').first().waitFor();
      expect(new URL(page.url()).searchParams.get('view')).toBe('cards');
      expect(await page.locator('a.card[data-node]:not([hidden])').count()).toBe(OFFLINE.length);
      await page.fill('#filter', '');
      await page.selectOption('#state-filter', 'red');
      await page.locator(`a.card[data-node="${RED[0]}"][data-alarm="red"] [data-field="alarm"]`).waitFor();
      expect(await page.locator(`a.card[data-node="${RED[0]}"] [data-field="alarm"]`).textContent()).toMatch(/cpu.*RED.*95/);
      expect(errors).toEqual([]);
    } finally {
      stop();
    }
  });

  it('draws only the rows on screen for 1,000 nodes and prints how fast it is', async () => {
    const { url, api } = await hubWithRules();
    const fleet: FakeNode[] = Array.from({ length: 1000 }, (_, i) => ({
      name: fleetName(i),
      status: i % 10 === 9 ? 'offline' : 'online',
      sample: (seq) => ({ cpu_pct: (i * 37 + seq) % 100 > 94 ? 50 : (i * 37 + seq) % 100 }),
    }));
    const client = await publishFleet(url, fleet);
    await waitFor('1,000 nodes in /api/nodes', async () => (await getJson(`${api}/api/nodes`)).body.nodes.length === 1000, 30_000);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = pageErrors(page);
    const t0 = Date.now();
    await page.goto(`${api}/`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    const interactiveMs = Date.now() - t0;
    const nav = await page.evaluate(() => {
      const e = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domContentLoaded: e.domContentLoadedEventEnd, ready: performance.now() };
    });
    expect(await page.locator('body').getAttribute('data-view')).toBe('table');
    const rowCount = await page.locator('.ft-row').count();
    expect(rowCount, 'row elements in the DOM').toBeLessThan(100);
    expect(rowCount).toBeGreaterThan(10);

    const sortMs = await page.evaluate(() => {
      const t = performance.now();
      document.querySelector<HTMLElement>('.ft-th[data-sort="cpu"]')!.click();
      return performance.now() - t;
    });
    const filterMs = await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('#filter')!;
      const t = performance.now();
      input.value = 'fleet-09';
      input.dispatchEvent(new Event('input'));
      return performance.now() - t;
    });
    expect((await rowsInOrder(page)).every((r) => r.node.startsWith('fleet-09'))).toBe(true);
    await page.fill('#filter', '');

    // Scrolled to the end: still a bounded number of rows, and the last node is drawn.
    await page.locator('.ft-box').evaluate((box) => box.scrollTo(0, box.scrollHeight));
    await expect.poll(async () => (await rowsInOrder(page)).length).toBeGreaterThan(10);
    expect(await page.locator('.ft-row').count()).toBeLessThan(100);

    // Frames per second while every node sends a sample per second (1,000 samples/s) for 3 s.
    const stop = feedFleet(
      client,
      fleet.filter((n) => n.status === 'online'),
      1000,
    );
    let fps: number;
    try {
      fps = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            let frames = 0;
            const start = performance.now();
            const tick = () => {
              frames++;
              if (performance.now() - start < 3000) requestAnimationFrame(tick);
              else resolve((frames * 1000) / (performance.now() - start));
            };
            requestAnimationFrame(tick);
          }),
      );
    } finally {
      stop();
    }
    console.log(
      `fleet table, 1,000 nodes: interactive ${interactiveMs} ms after navigation (DOMContentLoaded ${nav.domContentLoaded.toFixed(0)} ms, ready ${nav.ready.toFixed(0)} ms), ` +
        `${rowCount} row elements, sort by CPU ${sortMs.toFixed(1)} ms, text filter ${filterMs.toFixed(1)} ms, ${fps.toFixed(0)} frames/s under 900 samples/s`,
    );
    expect(errors).toEqual([]);
  });
});
