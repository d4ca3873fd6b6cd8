// Headless Debian Chromium driven by playwright-core; never a browser downloaded by a tool.
import { chromium, type Browser } from 'playwright-core';
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
