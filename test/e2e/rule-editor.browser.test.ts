// The alarms page's rules editor and silences in Chromium against a real `remonitor up` (hub with
// logins and its local agent): an admin creates a rule whose threshold the hub refuses, sees why
// beside the threshold, fixes it, tests its channel and saves it; the rule fires on the agent's
// real memory use and notifies a fake receiver (node:http on 127.0.0.1 standing in for a webhook
// service). The admin silences by rule with a reason (refused without one), sees it listed with its
// author and removes it. A bad edit of the rules file shows its problems; a viewer sees the rules
// but no control that changes them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addViewer, launchBrowser, signedInPage, startUp } from '../helpers/browser.ts';
import { REPO, runCleanups, waitFor } from '../helpers/parts.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

afterEach(runCleanups);
const SHOTS = join(REPO, 'test-results');

describe('the rules editor', () => {
  it('creates a rule that fires and notifies, shows each problem by its field, silences with a reason, and shows a viewer no controls', async () => {
    const fakeReceiver = await startWebhookReceiver();
    const { url, dataDir, admin } = await startUp();
    const viewer = addViewer(dataDir);
    const browser = await launchBrowser();

    const { page, errors } = await signedInPage(browser, url, admin, { viewport: { width: 1280, height: 900 } });
    await page.locator('a.card[data-status="online"]').first().waitFor({ timeout: 20_000 });
    await page.goto(new URL('/alarms', url).href);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 20_000 });
    await page.locator('#rules tr[data-rule="memory"]').waitFor();

    // A new rule with a percentage over 100: the hub's reason appears beside the threshold.
    await page.click('#rule-new');
    await page.fill('#rule-id', 'mem-any');
    await page.selectOption('#rule-metric', 'mem_pct');
    await page.fill('#rule-threshold', '150');
    for (const [key, value] of [
      ['for', '1s'],
      ['window', '1s'],
      ['horizon', '0'],
      ['trend_window', '2s'],
    ])
      await page.fill(`#rule-${key}`, value!);
    await page.fill('#rule-description', 'memory in use at all: fires at once');
    await page.click('#rule-add-channel');
    await page.fill('#rule-channel-0', fakeReceiver.url);
    await page.click('.channel[data-field="channel-0"] button.channel-test');
    await page.locator('.channel[data-field="channel-0"] .channel-result', { hasText: /^Sent/ }).waitFor({ timeout: 10_000 });
    expect(fakeReceiver.calls.map((c) => (c as { type: string }).type)).toEqual(['test']);
    await page.click('#rule-save');
    const thresholdProblem = page.locator('#rule-threshold-problem');
    await thresholdProblem.waitFor({ state: 'visible' });
    expect(await thresholdProblem.textContent()).toBe('a percentage must be above 0 and at most 100, got 150');
    expect(await page.getAttribute('#rule-threshold', 'aria-invalid')).toBe('true');
    expect(await page.locator('#rule-problems').isHidden()).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'rule-editor-problem.png') });

    await page.fill('#rule-threshold', '1');
    await page.click('#rule-save');
    await page.locator('dialog.rule-editor').waitFor({ state: 'detached' });
    await page.locator('#rules tr[data-rule="mem-any"]').waitFor();
    const saved = JSON.parse(readFileSync(join(dataDir, 'alarm-rules.json'), 'utf8')).rules.find((r: { id: string }) => r.id === 'mem-any');
    expect(saved).toEqual({
      id: 'mem-any',
      metric: 'mem_pct',
      threshold: 1,
      for: '1s',
      window: '1s',
      horizon: '0',
      trend_window: '2s',
      description: 'memory in use at all: fires at once',
      notify: { channels: [fakeReceiver.url] },
    });

    // It fires on the agent's real memory use and the fake receiver gets the notification.
    await page.locator('#active tr[data-rule="mem-any"][data-state="red"]').waitFor({ timeout: 30_000 });
    const firing = await waitFor('the notification', () => fakeReceiver.calls.find((c) => c.type === 'alarm_transition' || c.type === 'alarm_group'), 40_000);
    expect(firing.rule.id).toBe('mem-any');
    expect(firing.status).toBe('firing');

    // A silence of the rule: refused without a reason (said beside it), then listed with its author, then removed.
    await page.selectOption('#silence-kind', 'node_pattern');
    await page.fill('#silence-target', '*');
    await page.selectOption('#silence-rule', 'mem-any');
    await page.fill('#silence-for', '90m');
    await page.click('#silence-form button[type="submit"]');
    await page.locator('#silence-reason-problem', { hasText: 'say why' }).waitFor();
    await page.fill('#silence-reason', 'memory upgrade tonight');
    await page.click('#silence-form button[type="submit"]');
    const silenceRow = page.locator('#silences tbody tr[data-silence]');
    await silenceRow.waitFor();
    expect(await silenceRow.locator('td').allTextContents()).toEqual([
      'nodes *',
      'mem-any',
      expect.any(String),
      'memory upgrade tonight',
      admin.name,
      'Remove',
    ]);
    await page.locator('#active tr[data-rule="mem-any"] .hint', { hasText: 'silenced until' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'rule-editor-silence.png'), fullPage: true });
    await silenceRow.locator('button[data-action="unsilence"]').click();
    await page.locator('#silences tbody td.empty').waitFor();

    // A bad edit of the file: not applied, its problems shown, the rules in force still listed.
    const file = join(dataDir, 'alarm-rules.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...doc, rules: [...doc.rules, { id: 'typo', metric: 'mem_pcnt', threshold: 90 }] }));
    await page.locator('#rules-file[data-problems="1"] .file-problems li', { hasText: 'rules[' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#rules tr[data-rule="typo"]').count()).toBe(0);
    // The refused rule's status is logged by the browser itself; nothing else may be.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);

    // A viewer: the rules listed, nothing that changes them or the silences.
    const { page: asViewer, errors: viewerErrors } = await signedInPage(browser, url, viewer);
    await asViewer.locator('a.card').first().waitFor({ timeout: 20_000 });
    await asViewer.goto(new URL('/alarms', url).href);
    await asViewer.locator('body[data-ready="true"][data-role="viewer"]').waitFor({ timeout: 20_000 });
    await asViewer.locator('#rules tr[data-rule="mem-any"]').waitFor();
    for (const control of ['#rule-new', '#rules-import', '#rules-export', '#rules button', '#silence-form', '#channel-test', '#active button']) {
      expect(await asViewer.locator(control).count(), control).toBe(0);
    }
    // The channel's token-bearing path is not shown to a viewer.
    expect(await asViewer.locator('#rules tr[data-rule="mem-any"]').textContent()).not.toContain('/hook');
    expect(viewerErrors).toEqual([]);
  }, 120_000);
});
