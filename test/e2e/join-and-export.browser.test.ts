// The fleet page's "Add a node" dialog shows the one line for this hub, and the node page's
// Export links download the range's raw samples; `remonitor up` with its own agent, in Chromium.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, startUpInsecure } from '../helpers/browser.ts';
import { REPO, runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('join dialog and export links', () => {
  it('shows the join line with the typed name, and exports CSV of the node', async () => {
    const { url } = await startUpInsecure();
    const origin = new URL(url).origin;
    const browser = await launchBrowser();
    const { page, errors } = await openPage(browser, { viewport: { width: 1280, height: 900 } });

    await page.goto(url);
    await page.getByRole('button', { name: 'Add a node' }).click();
    const dialog = page.locator('dialog#add-node');
    await dialog.waitFor({ state: 'visible' });
    await page.fill('#add-node-name', 'garage-pi');
    await page.fill('#add-node-token', 's3cret');
    expect(await page.locator('#add-node-line').textContent()).toBe(`curl -fsSL ${origin}/install.sh | sh -s -- --node garage-pi --token s3cret`);
    // Opened as 127.0.0.1 here: the dialog warns that another machine needs the hub's network address.
    expect(await page.locator('#add-node-loopback').isVisible()).toBe(true);
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results/add-node.png') });
    await page.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const card = page.locator('a.card[data-status="online"]').first();
    await card.waitFor({ timeout: 20_000 });
    await card.click();
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-range="1h"]').click();
    const href = await page.locator('#export-csv').evaluate((a: HTMLAnchorElement) => {
      a.dispatchEvent(new Event('focus'));
      return a.href;
    });
    expect(href).toMatch(/\/api\/nodes\/[^/]+\/export\?format=csv&from=-1h&to=now$/);
    const csv = await (await fetch(href)).text();
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time,ts_ms,seq,cpu_pct,/);
    expect(lines.length).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  });
});
