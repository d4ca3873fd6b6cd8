// Headless Debian Chromium driven by playwright-core; never a browser downloaded by a tool.
import { chromium, type Browser, type Page } from 'playwright-core';
import { cleanup } from './parts.ts';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  cleanup(() => browser.close());
  return browser;
}

/** The page's uncaught errors and console errors, as they happen: a test ends expecting none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  return errors;
}

/** Opens the dashboard at `url`, is sent to the login page, and signs in as a person would. */
export async function signInOnPage(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url);
  await page.waitForURL('**/login?next=%2F');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}
