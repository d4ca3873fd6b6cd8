// Times and the interval picker as a German user in India sees them, on the pages of a real
// `remonitor up` (agent at --interval 500ms) in headless Chromium: chart ticks, the chart legend and
// table times follow the locale and the zone, the header names the zone, the Local/UTC switch
// changes them all and is remembered across pages; the picker shows the agent's real interval and
// Set interval sends the one picked. Kolkata (+5:30) sets local and UTC apart by 5.5 hours.
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { runCleanups } from '../helpers/parts.ts';
import { TimeFormat } from '../../web/client/time-format.ts';

afterEach(runCleanups);

const LOCALE = 'de-DE';
const ZONE = 'Asia/Kolkata';
const kolkata = new TimeFormat(LOCALE, ZONE);
const utc = new TimeFormat(LOCALE, 'UTC');
/** ICU versions differ in which space they put where; compare spaces as spaces. */
const spaces = (s: string | null) => (s ?? '').replace(/[^\S\n]/g, ' ');

/** Minutes past midnight now, in a zone. */
function nowMinutes(zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(Date.now());
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return n('hour') * 60 + n('minute');
}

/**
 * The live chart's tick labels: German ("23:50", a date line "6.12." where the day changes) and
 * within the last 15 minutes of the clock of `zone` (with a little slack for the test's own pace).
 */
async function expectTicksIn(page: Page, zone: string): Promise<void> {
  const root = page.locator('figure.chart[data-chart="cpu"] .uplot');
  await expect
    .poll(
      async () => {
        const labels = ((await root.getAttribute('data-x-ticks')) ?? '').split('|').filter((l) => l !== '');
        const now = nowMinutes(zone);
        const bad = labels.filter((label) => {
          const m = /^(\d{2}):(\d{2})(?::\d{2})?(?:\n\d{1,2}\.\d{1,2}\.)?$/.exec(label);
          if (!m) return true;
          const behind = (now - (Number(m[1]) * 60 + Number(m[2])) + 1440) % 1440;
          return behind > 20 && behind < 1438;
        });
        return labels.length > 0 && bad.length === 0 ? 'ok' : `ticks ${JSON.stringify(labels)} at ${now} min in ${zone}`;
      },
      { timeout: 10_000 },
    )
    .toBe('ok');
}

/** The chart legend's time of the point under the cursor, near the right end of the CPU chart. */
async function legendTime(page: Page): Promise<string> {
  const over = page.locator('figure.chart[data-chart="cpu"] .u-over');
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
  await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
  return spaces(await page.locator('figure.chart[data-chart="cpu"] .u-legend .u-series').first().locator('.u-value').textContent());
}

describe('times and the interval picker on the dashboard of remonitor up', () => {
  it('follow the locale and the chosen zone, and show and set the agent’s real interval', async () => {
    const { url, admin } = await startUp();
    const browser = await launchBrowser();
    const { page, errors } = await signedInPage(browser, url, admin, { locale: LOCALE, timezoneId: ZONE, viewport: { width: 1280, height: 900 } });
    const card = page.locator('a.card[data-status="online"]').first();
    await card.waitFor({ timeout: 20_000 });
    const node = (await card.getAttribute('data-node'))!;
    const nodeUrl = new URL(`/nodes/${encodeURIComponent(node)}`, url).href;
    const api = async <T>(path: string): Promise<T> => {
      const res = await page.request.get(new URL(path, url).href);
      expect(res.status(), path).toBe(200);
      return (await res.json()) as T;
    };

    // ---- the node page in the local zone ----
    await page.goto(nodeUrl);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    const localButton = page.locator('header .zone-switch button[data-zone="local"]');
    const utcButton = page.locator('header .zone-switch button[data-zone="utc"]');
    expect(spaces(await localButton.textContent())).toBe('Local (GMT+5:30)');
    expect(await localButton.getAttribute('aria-pressed')).toBe('true');
    await expectTicksIn(page, ZONE);
    const { info } = await api<{ info: { boot_time_ms: number } }>(`/api/nodes/${encodeURIComponent(node)}`);
    const booted = page.locator('[data-info="booted"]');
    expect(spaces(await booted.textContent())).toBe(spaces(kolkata.dateTime(info.boot_time_ms)));
    await page.locator('figure.chart[data-chart="cpu"] .u-over').waitFor();
    await expect.poll(() => legendTime(page), { timeout: 10_000 }).toMatch(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2} GMT\+5:30$/);

    // ---- the interval picker: the agent's own 500 ms, then 2 s set from the page ----
    const controls = page.locator('#node-controls');
    await controls.waitFor({ state: 'visible', timeout: 10_000 });
    const picker = controls.locator('select[data-control="interval"]');
    const picked = () => picker.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent ?? '');
    const apply = controls.locator('button[data-control="apply"]');
    expect(await picked()).toBe('500 ms');
    expect(await controls.locator('[data-control="state"]').textContent()).toBe('Sampling every 500 ms');
    expect(await apply.isDisabled(), 'nothing to set while the picker shows the current interval').toBe(true);
    const spacing = async () => {
      const res = await api<{ data: [number[]] }>(`/api/nodes/${encodeURIComponent(node)}/series?metrics=cpu_pct&from=-8s&to=now`);
      const t = res.data[0].slice(-4);
      return t.length < 4 ? null : Math.min(...t.slice(1).map((v, i) => v - t[i]!));
    };
    await expect.poll(spacing, { timeout: 10_000 }).toBeLessThan(0.8);
    await picker.selectOption({ label: '2 s' });
    expect(await apply.isDisabled()).toBe(false);
    await apply.click();
    await expect.poll(() => controls.locator('[data-control="state"]').textContent(), { timeout: 10_000 }).toBe('Sampling every 2 s');
    expect(await picked()).toBe('2 s');
    const control = await api<{ interval_ms: number | null }>(`/api/nodes/${encodeURIComponent(node)}/control`);
    expect(control.interval_ms).toBe(2000);
    // The agent samples every 2 s now: the last three gaps between stored samples are all about 2 s.
    await expect.poll(spacing, { timeout: 20_000 }).toBeGreaterThan(1.5);
    // After a reload the agent's reply beats the 500 ms it announced on connecting.
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await controls.waitFor({ state: 'visible', timeout: 10_000 });
    await expect.poll(picked, { timeout: 10_000 }).toBe('2 s');

    // ---- switched to UTC: ticks, legend and the info table follow at once ----
    await utcButton.click();
    expect(await utcButton.getAttribute('aria-pressed')).toBe('true');
    expect(await localButton.getAttribute('aria-pressed')).toBe('false');
    await expectTicksIn(page, 'UTC');
    expect(spaces(await booted.textContent())).toBe(spaces(utc.dateTime(info.boot_time_ms)));
    await expect.poll(() => legendTime(page), { timeout: 10_000 }).toMatch(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2} UTC$/);

    // ---- the choice holds on other pages: a session's start in the sessions table ----
    const watch = page.locator('table[data-procs="cpu"] tbody tr[data-pid] button.watch-button').first();
    await watch.waitFor({ timeout: 15_000 });
    await watch.click();
    await page.waitForURL('**/sessions/*', { timeout: 15_000 });
    const sessionId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const { sessions } = await api<{ sessions: { id: string; started_ms: number }[] }>('/api/sessions');
    const startedMs = sessions.find((s) => s.id === sessionId)!.started_ms;
    await expect
      .poll(async () => spaces(await page.locator('#where').textContent()), { timeout: 10_000 })
      .toContain(`started ${spaces(utc.dateTime(startedMs))}`);
    await page.goto(new URL('/sessions', url).href);
    const startedCell = page.locator(`tr[data-session="${sessionId}"] td`).nth(6);
    await expect.poll(async () => spaces(await startedCell.textContent()), { timeout: 10_000 }).toBe(spaces(utc.dateTime(startedMs)));
    expect(await page.locator('header .zone-switch').getAttribute('data-zone')).toBe('utc');
    await page.locator('header .zone-switch button[data-zone="local"]').click();
    await expect.poll(async () => spaces(await startedCell.textContent()), { timeout: 10_000 }).toBe(spaces(kolkata.dateTime(startedMs)));

    // ---- exports stay ISO 8601 in UTC, whatever the page shows ----
    const csv = await page.request.get(new URL(`/api/nodes/${encodeURIComponent(node)}/export?format=csv&from=-1m&to=now`, url).href);
    const [, first] = (await csv.text()).split('\n');
    const [time, tsMs] = first!.split(',');
    expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(time).toBe(new Date(Number(tsMs)).toISOString());

    expect(errors).toEqual([]);
  });
});
