// The session page in headless Chromium for a session whose memory grew once and then stayed: it
// reads "Growing, not a steady leak" in amber (never a green "No leak" beside its slope), and the
// fitted line is drawn only over the fitted samples, not over the samples taken after the
// processes had gone. The samples go through the real broker to a real hub, as an agent sends them.
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProcs, type ProcsSample, type WatchedProcess } from '../../protocol/procs.ts';
import { topics } from '../../protocol/topics.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { cleanup, getJson, REPO, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const MB = 1024 * 1024;
const AMBER = 'rgb(180, 83, 9)';
const GREEN = 'rgb(21, 128, 61)';

const row = (rssMb: number, exited = false): WatchedProcess => ({
  pid: 4321,
  name: 'app',
  rss_bytes: Math.round(rssMb * MB),
  vsize_bytes: Math.round(rssMb * 4 * MB),
  cpu_pct: 3,
  threads: 4,
  rss_anon_bytes: Math.round((rssMb - 10) * MB),
  rss_file_bytes: 10 * MB,
  swap_bytes: 0,
  exited,
});

describe('the session page on a growing session', () => {
  it('shows an amber "growing" verdict, and the fitted line within the data', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const client = await connectAsync(url, { protocolVersion: 4 });
    cleanup(() => client.endAsync(true));

    // 30 s of a process that steps from 40 to 62 MB a third of the way in and stays there, then exits;
    // 6 more samples (at 1 s) find nothing, and the session ends by itself after 3 of them.
    const session = 's-growing-1';
    const t0 = Date.now() - 60_000;
    const samples: ProcsSample[] = [];
    for (let i = 0; i < 36; i++) {
      const procs = i < 30 ? [row((i < 10 ? 40 : 62) + (i % 3) * 0.1)] : i === 30 ? [row(62, true)] : [];
      samples.push({ v: 1, session, seq: i, ts_ms: t0 + i * 1000, target: 'cmdline:app.js', interval_ms: 1000, procs });
    }
    for (const s of samples) await client.publishAsync(topics.procs('grow-1'), Buffer.from(encodeProcs(s)), { qos: 1 });
    const detail = await waitFor('the session stored, ended', async () => {
      const { body } = await getJson(`${api}/api/sessions/${session}`);
      return body?.sample_count === samples.length ? body : null;
    });
    expect(detail.state).toBe('ended');
    const a = detail.analysis;
    expect(a.verdict, a.reason).toBe('growing');
    expect(a.slope_mb_per_h).toBeGreaterThan(1000);
    expect(a.headline).toMatch(/^Growing, not a steady leak \(/);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${api}/sessions/${session}`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#verdict')).toBe(a.headline);
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('growing');
    const color = await page.$eval('#verdict', (el) => getComputedStyle(el).color);
    expect(color).toBe(AMBER);
    expect(color).not.toBe(GREEN);
    expect(await page.textContent('[data-figure="slope"]')).toBe(`${a.slope_mb_per_h.toFixed(2)} MB/h`);
    expect(await page.textContent('#reason')).toBe(a.reason);
    expect(await page.textContent('#where')).toContain('its processes exited');

    // The x ranges (s) of what the chart draws: the fitted line lies within the RSS drawn, starts
    // after the warm-up, and ends at the last sample with a process, before the empty samples.
    const figure = 'figure[data-chart="memory"]';
    await page.waitForFunction((f) => document.querySelector(f)?.getAttribute('data-fit-range'), figure);
    const [rssFrom, rssTo] = (await page.getAttribute(figure, 'data-rss-range'))!.split(' ').map(Number) as [number, number];
    const [fitFrom, fitTo] = (await page.getAttribute(figure, 'data-fit-range'))!.split(' ').map(Number) as [number, number];
    expect(rssFrom).toBe(t0 / 1000);
    expect(rssTo).toBe((t0 + 29_000) / 1000);
    expect(fitFrom).toBeGreaterThan(rssFrom);
    expect(fitFrom).toBeGreaterThanOrEqual(a.fit.from_ms / 1000);
    expect(fitTo).toBeLessThanOrEqual(rssTo);
    expect(fitTo).toBe(a.fit.to_ms / 1000);
    expect(Number(await page.getAttribute(figure, 'data-points'))).toBe(samples.length);
    await page.screenshot({ path: join(REPO, 'test-results/session-growing.png') });

    // The list says the same, in the same colour.
    await page.goto(`${api}/sessions`);
    await page.waitForSelector('body[data-ready="true"]');
    const cell = page.locator(`tr[data-session="${session}"] td[data-verdict]`);
    expect(await cell.textContent()).toBe(a.headline);
    expect(await cell.evaluate((el) => getComputedStyle(el).color)).toBe(AMBER);
  });
});
