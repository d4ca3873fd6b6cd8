// Tags in the dashboard of a real `remonitor up` (logins on): the "Add a node" dialog enrols a node
// with the tags typed in (a bad one is refused before anything is sent), and the fleet lists it with
// them; on a node page an admin gets the tag editor and a viewer does not.
import { afterEach, describe, expect, it } from 'vitest';
import { addViewer, launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('tags at enrolment in the dashboard', () => {
  it('enrols a node with its tags from the Add a node dialog, and shows the editor to admins only', async () => {
    const { url, dataDir, admin } = await startUp();
    const viewer = addViewer(dataDir);
    const browser = await launchBrowser();

    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await page.click('#add-node-button');
    await page.fill('#add-node-name', 'garage-pi');
    await page.fill('#add-node-tags', 'site-b, Garage');
    await page.click('#add-node-enrol');
    expect(await page.textContent('#add-node-enrol-result')).toMatch(/tag "Garage" must be lowercase/);
    expect(await page.inputValue('#add-node-token')).toBe('');
    await page.fill('#add-node-tags', 'site-b, garage');
    await page.click('#add-node-enrol');
    await expect
      .poll(() => page.textContent('#add-node-enrol-result'), { timeout: 10_000 })
      .toBe('token created (tags garage, site-b): it is shown only now, copy the line');
    const listed = await page.evaluate(async () =>
      ((await (await fetch('/api/nodes')).json()) as { nodes: { name: string; tags: string[] }[] }).nodes.find((n) => n.name === 'garage-pi'),
    );
    expect(listed?.tags).toEqual(['garage', 'site-b']);

    // The node page: the admin may edit; a viewer sees the tags and no editor.
    await page.goto(new URL('/nodes/garage-pi', url).href);
    await page.locator('.node-tags .tag-chip').first().waitFor({ timeout: 10_000 });
    await page.locator('#edit-tags:visible').waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);

    const { page: asViewer } = await signedInPage(browser, url, viewer);
    await asViewer.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await asViewer.goto(new URL('/nodes/garage-pi', url).href);
    await asViewer.locator('.node-tags .tag-chip').first().waitFor({ timeout: 10_000 });
    expect(await asViewer.locator('.node-tags .tag-chip').allTextContents()).toEqual(['garage', 'site-b']);
    await asViewer.locator('#edit-tags[data-role-checked="true"]').waitFor({ state: 'attached' });
    expect(await asViewer.locator('#edit-tags').isVisible()).toBe(false);
  }, 120_000);
});
