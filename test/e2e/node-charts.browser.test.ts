// The node page of `remonitor up --insecure` (this machine's agent), in headless Chromium: every
// chart group of the registry is drawn (disk I/O and load among them), and the labelled chart's
// picker shows one line per core, then one per mount.
import { afterEach, describe, expect, it } from 'vitest';
import { CHART_GROUPS } from '../../protocol/metrics.ts';
import type { NodeDetailResponse } from '../../shared/api-types.ts';
import { launchBrowser, openPage, startUpInsecure } from '../helpers/browser.ts';
import { runCleanups, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('the node page', () => {
  it('draws every chart group and the labelled series by core and by mount', async () => {
    const { url } = await startUpInsecure();
    const base = url.replace(/\/$/, '');
    const nodes = await waitFor(
      'this machine with samples',
      async () => {
        const body = await (await fetch(`${base}/api/nodes`)).json();
        return body.nodes?.find((n: { latest: unknown }) => n.latest) as { name: string } | undefined;
      },
      20_000,
    );
    const detail = await waitFor('a sample with cores and mounts', async () => {
      const d = (await (await fetch(`${base}/api/nodes/${encodeURIComponent(nodes.name)}`)).json()) as NodeDetailResponse;
      return d.sample?.cpu_core_pct?.length && d.sample.filesystems?.length ? d : null;
    });

    const browser = await launchBrowser();
    const { page, errors } = await openPage(browser, { viewport: { width: 1400, height: 900 } });
    await page.goto(`${base}/nodes/${encodeURIComponent(nodes.name)}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    for (const { group } of CHART_GROUPS) {
      if (group === 'temp' && detail.sample!.temp_c === undefined) continue; // no sensor here: no chart
      if (group === 'swap' && detail.sample!.swap_pct === undefined) continue; // drawn, but empty without swap
      await page.locator(`figure.chart[data-chart="${group}"] .uplot canvas`).waitFor({ timeout: 10_000 });
      await expect
        .poll(async () => Number(await page.getAttribute(`figure.chart[data-chart="${group}"]`, 'data-points')), { timeout: 10_000 })
        .toBeGreaterThan(0);
    }

    const labelled = page.locator('figure.chart[data-chart="labelled"]');
    await expect.poll(() => labelled.getAttribute('data-series'), { timeout: 15_000 }).toBe(String(detail.sample!.cpu_core_pct!.length));
    expect(await labelled.getAttribute('data-metric')).toBe('cpu_core_pct');
    await labelled.locator('select').selectOption('fs_used_pct');
    await expect
      .poll(() => labelled.getAttribute('data-series'), { timeout: 10_000 })
      .toBe(String(new Set(detail.sample!.filesystems!.map((f) => f.mount)).size));
    await labelled.locator('.uplot canvas').waitFor();
    expect(errors).toEqual([]);
  }, 90_000);
});
