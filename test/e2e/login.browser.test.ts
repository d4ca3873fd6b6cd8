// Logging in, in a real browser (Debian chromium): the fleet page sends an unknown visitor to the
// login page, which refuses a wrong password and then lets the operator in; the fleet shows the
// node, and acknowledging an alarm (a POST with the CSRF header) works from the page. Real broker,
// hub with logins and agent; the agent's OS sampler is scripted (a disk over 80 % for an alarm).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { REPO, runCleanups, startHubWithRules, waitFor } from '../helpers/parts.ts';
import { startScriptedAgent } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);
const SHOTS = join(REPO, 'test-results');
const PASSWORD = 'operator-pass-1';

describe('login in the browser', () => {
  it('sends / to the login page, logs in, shows the fleet, and acknowledges an alarm with the CSRF header', async () => {
    const { url, hub, api } = await startHubWithRules(
      [{ id: 'disk', metric: 'fs_pct', threshold: 80, for: '500ms', window: '500ms' }],
      [{ name: 'olga', role: 'operator', password: PASSWORD }],
    );
    await startScriptedAgent(url, 'pi-locked', () => ({
      cpu_pct: 12,
      mem_pct: 40,
      filesystems: [{ mount: '/', size_bytes: 32e9, used_bytes: 29e9, used_pct: 91 }],
    }));
    await waitFor('a RED disk alarm', () => hub.alarms!.active().some((a) => a.node === 'pi-locked' && a.state === 'red'));

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const posts: { url: string; csrf: string | undefined }[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST') posts.push({ url: req.url(), csrf: req.headers()['x-csrf-token'] });
    });

    await page.goto(`${api}/`);
    await page.waitForURL(`${api}/login?next=%2F`);
    await page.fill('#login-name', 'olga');
    await page.fill('#login-password', 'not-my-password');
    await page.click('#login-submit');
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 10_000 }).toMatch(/Wrong name or password/);

    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${api}/`);
    await page.locator('a.card[data-node="pi-locked"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('.signed-in').textContent(), { timeout: 10_000 }).toMatch(/signed in as olga \(operator\)/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'login-fleet.png') });

    await page.goto(`${api}/alarms`);
    const row = page.locator('#active tr[data-node="pi-locked"][data-rule="disk"]');
    await row.waitFor({ timeout: 10_000 });
    await row.locator('button[data-action="ack"]').click();
    await page.locator('#active tr[data-node="pi-locked"][data-acked="true"]').waitFor({ timeout: 10_000 });
    const ack = posts.find((p) => p.url.endsWith('/api/alarms/ack'));
    expect(ack?.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hub.alarms!.active().find((a) => a.node === 'pi-locked')?.acked).toBeTruthy();

    // A session that ends under an open page (expired, or the user removed): its next API call
    // gets 401 and the page goes to the login page, to come back here.
    await page.context().clearCookies();
    await page.waitForURL(`${api}/login?next=%2Falarms`, { timeout: 15_000 });
    await page.fill('#login-name', 'olga');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${api}/alarms`);

    await page.locator('.sign-out').click();
    await page.waitForURL(`${api}/login`);
    await page.goto(`${api}/alarms`);
    await page.waitForURL(`${api}/login?next=%2Falarms`);
    expect(errors).toEqual([]);
  });
});
