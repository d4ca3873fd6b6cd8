// Every page at a desktop (1400×900) and a phone (390×844) size, in the light and the dark theme,
// in a real browser (Debian chromium) against a hub with logins, alarms and nodes: no page scrolls
// sideways, no page error, the header's buttons stay on screen, the alarms table's actions can be
// reached, process names stay readable. And the theme toggle: kept in this browser, it overrides
// the system's choice, and the charts redraw their axes in the theme's ink.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, signedInPage } from '../helpers/browser.ts';
import { feedFleet, fleetName, publishFleet, type FakeNode } from '../helpers/fake-fleet.ts';
import { cleanup, REPO, runCleanups, startBroker, startHub, startHubWithRules, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);
const SHOTS = join(REPO, 'test-results');
const PASSWORD = 'a long enough password';

const VIEWPORTS = [
  { name: 'desktop', width: 1400, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** How far the page scrolls sideways, px (0 when it fits). */
const overflowX = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth - innerWidth);

/** `selector`'s first element lies within the window's width. */
const onScreen = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.left >= 0 && r.right <= innerWidth;
    });

describe('every page at 1400 and 390 px wide, light and dark', () => {
  it('fits the window, shows no error, and keeps header buttons, alarm actions and process names usable', async () => {
    const olga = { name: 'olga', role: 'operator', password: PASSWORD } as const;
    const { url, hub, api } = await startHubWithRules([{ id: 'cpu', metric: 'cpu_pct', threshold: 95, for: '500ms', window: '500ms' }], [olga]);
    const hot = 'a-node-with-a-rather-long-name-0001';
    const fleet: FakeNode[] = [
      { name: hot, status: 'online', sample: () => ({ cpu_pct: 99 }) },
      ...Array.from({ length: 40 }, (_, i): FakeNode => ({ name: fleetName(i), status: i % 8 === 0 ? 'offline' : 'online', sample: () => ({ cpu_pct: i }) })),
    ];
    const client = await publishFleet(url, fleet);
    const stop = feedFleet(client, fleet.slice(0, 1), 200);
    cleanup(stop);
    await waitFor('a RED alarm', () => hub.alarms!.active().some((a) => a.node === hot && a.state === 'red'));

    const browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
    const pages = [
      { path: '/login', ready: '#login' },
      { path: '/', ready: 'body[data-ready="true"]' },
      { path: '/?view=cards', ready: 'body[data-ready="true"]' },
      { path: `/nodes/${hot}`, ready: 'body[data-ready="true"]' },
      { path: '/alarms', ready: '#active tr[data-node]' },
      { path: '/sessions', ready: 'body[data-ready="true"]' },
      { path: '/sessions/demo', ready: 'body[data-ready="true"]' },
    ];
    const problems: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      for (const vp of VIEWPORTS) {
        const { page, errors } = await signedInPage(browser, `${api}/`, olga, { viewport: { width: vp.width, height: vp.height }, colorScheme: theme });
        await page.waitForURL(`${api}/`);
        for (const p of pages) {
          if (p.path === '/login') {
            // Signed in, the login page still shows as it does to someone signed out.
            await page.goto(`${api}/login`);
          } else await page.goto(`${api}${p.path}`);
          await page
            .locator(p.ready)
            .first()
            .waitFor({ timeout: 15_000 })
            .catch((err: Error) => {
              throw new Error(`${page.url()}: ${err.message}`);
            });
          await page.waitForTimeout(300); // header parts that arrive after /api/me
          const where = `${p.path} at ${vp.width}px, ${theme}`;
          expect(await page.locator('html').getAttribute('data-theme'), where).toBe(theme);
          const over = await overflowX(page);
          if (over > 0) problems.push(`${where}: scrolls ${over}px sideways`);
          if (!(await onScreen(page, '.theme-toggle'))) problems.push(`${where}: the theme toggle is off screen`);
          if (p.path !== '/login' && !(await onScreen(page, '.sign-out'))) problems.push(`${where}: "Sign out" is off screen`);
          if (p.path === '/alarms') {
            // The actions are reached without scrolling sideways, in the row's own box at most.
            for (const action of ['ack', 'silence'])
              if (!(await onScreen(page, `#active tr[data-node="${hot}"] button[data-action="${action}"]`))) problems.push(`${where}: ${action} is off screen`);
          }
          if (p.path.startsWith('/nodes/')) {
            const name = page.locator('table[data-procs="cpu"] td.name').first();
            await name.waitFor();
            const width = await name.evaluate((el) => el.clientWidth);
            if (width < 70) problems.push(`${where}: process names get ${width}px`);
          }
          const file = `${p.path.replace(/[/?=]+/g, '_') || '_'}-${vp.name}-${theme}.png`.replace(/^_/, 'page-');
          await page.screenshot({ path: join(SHOTS, file), fullPage: true });
        }
        expect(errors, `${vp.name} ${theme}`).toEqual([]);
        await page.context().close();
      }
    }
    expect(problems).toEqual([]);
  }, 180_000); // 28 page loads: over a minute on a busy machine

  it('keeps the toggled theme in this browser over the system choice, and redraws chart axes in its ink', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const client = await publishFleet(url, [{ name: 'pi-theme', status: 'online', sample: () => ({ cpu_pct: 20 }) }]);
    const stop = feedFleet(client, [{ name: 'pi-theme', status: 'online', sample: (seq) => ({ cpu_pct: 20 + (seq % 10) }) }], 250);
    cleanup(stop);
    const browser = await launchBrowser();
    const { page, errors } = await openPage(browser, { viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    await page.goto(`${api}/nodes/pi-theme`);
    await page.locator('figure.chart[data-chart="cpu"] .uplot canvas').waitFor({ timeout: 15_000 });
    const axisInk = () =>
      page.evaluate(() => {
        // The colour of the CPU chart's y-axis labels: the canvas's most common opaque non-series pixel left of the plot.
        const canvas = document.querySelector<HTMLCanvasElement>('figure.chart[data-chart="cpu"] .uplot canvas')!;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, Math.round(40 * devicePixelRatio), canvas.height);
        let sum = 0;
        let n = 0;
        for (let i = 0; i < data.length; i += 4)
          if (data[i + 3]! > 200) {
            sum += data[i]! + data[i + 1]! + data[i + 2]!;
            n++;
          }
        return n ? sum / n / 3 : -1;
      });
    expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
    const lightInk = await axisInk();
    await page.click('.theme-toggle');
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.locator('.theme-toggle').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(axisInk, { timeout: 5000 }).toBeGreaterThan(lightInk + 60); // light grey text on dark, not dark grey
    await page.reload();
    expect(await page.locator('html').getAttribute('data-theme'), 'kept over a light system').toBe('dark');
    await page.goto(`${api}/alarms`);
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    // Back to the system's choice: toggled to light on a light system, nothing is kept.
    await page.click('.theme-toggle');
    expect(await page.evaluate(() => localStorage.getItem('remonitor.theme'))).toBeNull();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(errors).toEqual([]);
  });
});
