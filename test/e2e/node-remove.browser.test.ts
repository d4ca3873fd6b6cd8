// The node page's "Remove node…" button in Chromium: shown to an admin of a real `remonitor up`,
// its dialog removes the node (keeping its data) and goes back to the fleet page, which no longer
// lists it; a viewer never sees the button.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addViewer, launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { REPO, runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('the Remove node button', () => {
  it('removes the node for an admin and is not there for a viewer', async () => {
    const { url, dataDir, admin } = await startUp();
    const viewer = addViewer(dataDir);
    const browser = await launchBrowser();

    const { page: asViewer, errors: viewerErrors } = await signedInPage(browser, url, viewer);
    const card = asViewer.locator('a.card[data-status="online"]').first();
    await card.waitFor({ timeout: 20_000 });
    await card.click();
    await asViewer.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await asViewer.locator('#remove-node[data-role-checked="true"]').waitFor({ state: 'attached' });
    expect(await asViewer.locator('#remove-node').isVisible()).toBe(false);
    expect(viewerErrors).toEqual([]);

    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    await page.locator('a.card[data-status="online"]').first().click();
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    const node = decodeURIComponent(new URL(page.url()).pathname.replace('/nodes/', ''));
    await page.getByRole('button', { name: 'Remove node…' }).click();
    const dialog = page.locator('dialog.remove-node');
    await dialog.waitFor({ state: 'visible' });
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results/node-remove.png') });
    await page.getByRole('button', { name: 'Remove, keep data' }).click();
    await page.waitForURL(new URL('/', url).href);
    const listed = await page.evaluate(async () => ((await (await fetch('/api/nodes')).json()) as { nodes: { name: string }[] }).nodes.map((n) => n.name));
    expect(listed).not.toContain(node);
    expect(errors).toEqual([]);
  }, 90_000);
});
