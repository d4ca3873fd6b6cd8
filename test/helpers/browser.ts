// Headless Debian Chromium driven by playwright-core; never a browser downloaded by a tool. And the
// start of most browser tests: a real `remonitor up`, a viewer added with the CLI, signed-in pages.
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { CLI, cleanup, spawnProcess, tempDir, type Spawned } from './parts.ts';

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

export interface OpenedPage {
  page: Page;
  /** As `pageErrors` collects them. */
  errors: string[];
}

/** A page in a context of its own (its own cookies). */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const page = await (await browser.newContext(options)).newPage();
  return { page, errors: pageErrors(page) };
}

/** Opens the dashboard at `url`, is sent to the login page, and signs in as a person would. */
export async function signInOnPage(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url);
  await page.waitForURL('**/login?next=%2F');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

export interface Login {
  name: string;
  password: string;
}

/** `openPage`, signed in at `url` as `login`. */
export async function signedInPage(browser: Browser, url: string, login: Login, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const opened = await openPage(browser, options);
  await signInOnPage(opened.page, url, login.name, login.password);
  return opened;
}

export interface RunningUp {
  up: Spawned;
  /** The dashboard, as `remonitor up` printed it. */
  url: string;
  dataDir: string;
}

/**
 * `remonitor up` as a person starts it, in a new data directory, with its own agent sampling every
 * 500 ms; on its secure default, with the admin it printed at its first start.
 */
export async function startUp(): Promise<RunningUp & { admin: Login }> {
  const running = await spawnUp([]);
  const [, name, password] = await running.up.waitForLine(/sign in at \S+ as "(\S+)" with password (\S+)/);
  return { ...running, admin: { name: name!, password: password! } };
}

/** `startUp` with --insecure: no logins. */
export function startUpInsecure(): Promise<RunningUp> {
  return spawnUp(['--insecure']);
}

async function spawnUp(flags: string[]): Promise<RunningUp> {
  const dataDir = tempDir();
  const up = spawnProcess(process.execPath, [
    CLI,
    'up',
    ...flags,
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
  const [, url] = await up.waitForLine(/dashboard at (http:\/\/\S+)/);
  return { up, url: url!, dataDir };
}

/** The viewer `addViewer` adds. */
export const VIEWER: Login = { name: 'vera', password: 'vera-password-1' };

/** Adds VIEWER to the hub of `dataDir` with `remonitor user add`, as an admin would. */
export function addViewer(dataDir: string): Login {
  const added = spawnSync(process.execPath, [CLI, 'user', 'add', VIEWER.name, '--role', 'viewer', '--password-stdin', '--data-dir', dataDir], {
    input: `${VIEWER.password}\n`,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (added.status !== 0) throw new Error(`remonitor user add ${VIEWER.name} exited with ${added.status}: ${added.stderr}`);
  return VIEWER;
}
