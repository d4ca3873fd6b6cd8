// The rules editor offers the labelled metrics and a labels field, in Chromium against a real
// `remonitor up` (hub with logins and its local agent): the field shows for a labelled metric with
// the labels it carries, the hub's problem with a label appears beside it, and the fixed rule is
// saved to the rules file and listed with its labels. The shipped labelled rules are listed too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('the rules editor on labelled metrics', () => {
  it('offers them with a labels field and shows the hub’s problem with a label beside it', async () => {
    const { url, dataDir, admin } = await startUp();
    const browser = await launchBrowser();
    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 20_000 });
    await page.goto(new URL('/alarms', url).href);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    // The shipped rules on labelled metrics.
    for (const id of ['container-memory', 'unit-failed', 'readonly-fs', 'storage-wear']) await page.locator(`#rules tr[data-rule="${id}"]`).waitFor();

    await page.click('#rule-new');
    await page.fill('#rule-id', 'web-memory');
    await page.selectOption('#rule-metric', 'cpu_pct');
    expect(await page.locator('.field[data-field="labels"]').isHidden()).toBe(true);
    await page.selectOption('#rule-metric', 'container_mem_pct');
    const labelsField = page.locator('.field[data-field="labels"]');
    expect(await labelsField.isVisible()).toBe(true);
    expect(await labelsField.locator('.hint').textContent()).toContain('Labels: container, image');
    await page.fill('#rule-threshold', '90');
    await page.fill('#rule-labels', 'unit=web*');
    await page.click('#rule-save');
    const problem = page.locator('#rule-labels-problem');
    await problem.waitFor({ state: 'visible' });
    expect(await problem.textContent()).toBe('labels.unit: container_mem_pct carries the labels container, image, not "unit"');
    expect(await page.getAttribute('#rule-labels', 'aria-invalid')).toBe('true');
    expect(await page.locator('#rule-problems').isHidden()).toBe(true);

    await page.fill('#rule-labels', 'container=web*, image=nginx:*');
    await page.click('#rule-save');
    await page.locator('dialog.rule-editor').waitFor({ state: 'detached' });
    const row = page.locator('#rules tr[data-rule="web-memory"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('container_mem_pct {container=web*, image=nginx:*}');
    const saved = JSON.parse(readFileSync(join(dataDir, 'alarm-rules.json'), 'utf8')).rules.find((r: { id: string }) => r.id === 'web-memory');
    expect(saved).toEqual({ id: 'web-memory', metric: 'container_mem_pct', threshold: 90, labels: { container: 'web*', image: 'nginx:*' } });

    // Edited again, the form shows the labels as saved.
    await row.locator('button[data-action="edit"]').click();
    expect(await page.inputValue('#rule-labels')).toBe('container=web*, image=nginx:*');
    expect(await page.inputValue('#rule-metric')).toBe('container_mem_pct');
    // The one refused save, and nothing else.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  });
});
