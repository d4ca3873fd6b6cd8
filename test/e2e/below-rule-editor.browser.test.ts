// The rules editor offers the direction of a rule, in Chromium against a real `remonitor up` (hub
// with logins and its local agent): a rule made to fire below its threshold is saved to the rules
// file with `"when": "below"`, listed as "below 0.5", and shown so when edited again; the shipped
// below-rules are listed too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

const savedRule = (dataDir: string, id: string) =>
  JSON.parse(readFileSync(join(dataDir, 'alarm-rules.json'), 'utf8')).rules.find((r: { id: string }) => r.id === id);

describe('the rules editor on rules that fire below their threshold', () => {
  it('offers above or below, saves "when": "below" and lists the rule so', async () => {
    const { url, dataDir, admin } = await startUp();
    const browser = await launchBrowser();
    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 20_000 });
    await page.goto(new URL('/alarms', url).href);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    for (const id of ['container-stopped', 'smart-failed']) {
      const shipped = page.locator(`#rules tr[data-rule="${id}"]`);
      await shipped.waitFor();
      expect(await shipped.locator('td').nth(2).textContent()).toBe('below 0.5');
    }

    await page.click('#rule-new');
    expect(await page.inputValue('#rule-when')).toBe('above');
    await page.fill('#rule-id', 'web-down');
    await page.selectOption('#rule-metric', 'container_running');
    await page.selectOption('#rule-when', 'below');
    await page.fill('#rule-threshold', '0.5');
    await page.fill('#rule-labels', 'container=web*');
    await page.click('#rule-save');
    await page.locator('dialog.rule-editor').waitFor({ state: 'detached' });
    const row = page.locator('#rules tr[data-rule="web-down"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('below 0.5');
    expect(savedRule(dataDir, 'web-down')).toEqual({
      id: 'web-down',
      metric: 'container_running',
      when: 'below',
      threshold: 0.5,
      labels: { container: 'web*' },
    });

    // Edited again, the form shows the direction; turned to above, the file says so.
    await row.locator('button[data-action="edit"]').click();
    expect(await page.inputValue('#rule-when')).toBe('below');
    await page.selectOption('#rule-when', 'above');
    await page.click('#rule-save');
    await page.locator('dialog.rule-editor').waitFor({ state: 'detached' });
    await page.locator('#rules tr[data-rule="web-down"] td:nth-child(3)', { hasText: /^0\.5$/ }).waitFor();
    expect(savedRule(dataDir, 'web-down')).toMatchObject({ when: 'above', threshold: 0.5 });
    expect(errors).toEqual([]);
  });
});
