// Tags in the dashboard of a real `remonitor up` (logins on): the "Add a node" dialog enrols a node
// with the tags typed in (a bad one is refused before anything is sent), and the fleet lists it with
// them; on a node page an admin gets the tag editor and a viewer does not.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, pageErrors, signInOnPage } from '../helpers/browser.ts';
import { CLI, cleanup, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('tags at enrolment in the dashboard', () => {
  it('enrols a node with its tags from the Add a node dialog, and shows the editor to admins only', async () => {
    const dataDir = tempDir();
    const up = spawnProcess(process.execPath, [
      CLI,
      'up',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--data-dir',
      dataDir,
      '--interval',
      '500ms',
      '--log-level',
      'warn',
    ]);
    const [, admin, password] = await up.waitForLine(/sign in at \S+ as "(\S+)" with password (\S+)/);
    const [, url] = await up.waitForLine(/dashboard at (http:\/\/\S+)/);
    const viewer = spawnSync(process.execPath, [CLI, 'user', 'add', 'vera', '--role', 'viewer', '--password-stdin', '--data-dir', dataDir], {
      input: 'vera-password-1\n',
      encoding: 'utf8',
    });
    expect(viewer.status, viewer.stderr).toBe(0);
    const browser = await launchBrowser();
    cleanup(() => browser.close());

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors = pageErrors(page);
    await signInOnPage(page, url!, admin!, password!);
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

    const asViewer = await (await browser.newContext()).newPage();
    await signInOnPage(asViewer, url!, 'vera', 'vera-password-1');
    await asViewer.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await asViewer.goto(new URL('/nodes/garage-pi', url).href);
    await asViewer.locator('.node-tags .tag-chip').first().waitFor({ timeout: 10_000 });
    expect(await asViewer.locator('.node-tags .tag-chip').allTextContents()).toEqual(['garage', 'site-b']);
    await asViewer.locator('#edit-tags[data-role-checked="true"]').waitFor({ state: 'attached' });
    expect(await asViewer.locator('#edit-tags').isVisible()).toBe(false);
  }, 120_000);
});
