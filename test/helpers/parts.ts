// Starts real parts for tests: the embedded broker and the hub on ephemeral ports, a SQLite file
// in a temporary directory, the CLI as a child process. Nothing here stands in for our own code.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers, type WebRole } from '../../auth/web-users.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { defaultRulesFile } from '../../hub/alarms/engine.ts';
import { createLogger } from '../../shared/logger.ts';
import { HubService, type HubOptions } from '../../cli/hub-service.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';

export const quietLog = createLogger((process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');
export const REPO = new URL('../../', import.meta.url).pathname;
export const CLI = join(REPO, 'bin/remonitor.mjs');

const cleanups: (() => Promise<void> | void)[] = [];
/** Runs everything registered with `cleanup`, newest first; call it from afterEach/afterAll. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}
export function cleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function tempDir(prefix = 'remonitor-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startBroker(): Promise<{ broker: EmbeddedBroker; url: string }> {
  const broker = new EmbeddedBroker({ port: 0, log: quietLog });
  await broker.start();
  cleanup(() => broker.stop());
  return { broker, url: `mqtt://127.0.0.1:${broker.port}` };
}

export async function startHub(brokerUrl: string, dataDir = tempDir(), options: Partial<HubOptions> = {}): Promise<{ hub: HubService; api: string }> {
  const hub = new HubService({ brokerUrl, dataDir, httpPort: 0, log: quietLog, ...options });
  await hub.start();
  cleanup(() => hub.stop());
  return { hub, api: `http://127.0.0.1:${hub.httpPort}` };
}

export interface HubUser {
  name: string;
  role: WebRole;
  password: string;
}

/**
 * A broker and a hub whose alarm rules file holds `rules` (judged every 200 ms); with `users`,
 * logins are on, as on `remonitor up`'s secure default, and those users exist.
 */
export async function startHubWithRules(rules: object[], users: HubUser[] = []): Promise<{ url: string; hub: HubService; api: string }> {
  const { url } = await startBroker();
  const dataDir = tempDir();
  writeFileSync(defaultRulesFile(dataDir), JSON.stringify({ version: 1, rules }));
  const options: Partial<HubOptions> = { alarms: { tickMs: 200 } };
  if (users.length > 0) {
    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const webUsers = new WebUsers(db);
    for (const user of users) await webUsers.addUser(user.name, user.role, user.password);
    options.webAuth = createWebAuth({ users: webUsers });
  }
  const { hub, api } = await startHub(url, dataDir, options);
  return { url, hub, api };
}

export async function getJson<T = any>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first stdout/stderr line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a process that is killed (by its PID) at cleanup if still running. With `group`, it leads a
 * process group of its own and cleanup kills the whole group: for a shell or npm that starts the
 * process that matters as its child.
 */
export function spawnProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; group?: boolean } = {}): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of [...waiters]) {
      const match = output.match(w.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(match);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanup(async () => {
    if (options.group) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group has already gone
      }
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    output: () => output,
    exited,
    waitForLine(pattern, timeoutMs = 20_000) {
      const match = output.match(pattern);
      if (match) return Promise.resolve(match);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${output}`)), timeoutMs);
        waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}

/**
 * Signs in to a spawned hub as the admin it printed on its first start (the secure default), and
 * returns getJson/postJson that carry the session cookie (and the CSRF token, as the pages do).
 */
export async function signInAsPrintedAdmin(proc: Spawned, base: string): Promise<SignedIn> {
  const [, name, password] = await proc.waitForLine(/sign in at \S+ as "(\S+)" with password (\S+)/);
  const origin = new URL(base).origin;
  const login = await fetch(new URL('/api/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ name, password }),
  });
  if (!login.ok) throw new Error(`login as ${name} failed: ${login.status} ${await login.text()}`);
  const pairs = login.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const cookie = pairs.join('; ');
  const csrf = decodeURIComponent(pairs.find((p) => p.startsWith('rm_csrf='))?.slice('rm_csrf='.length) ?? '');
  const call = async (path: string, init: RequestInit) => {
    const res = await fetch(new URL(path, base), init);
    return { status: res.status, body: await res.json() };
  };
  return {
    getJson: (path) => call(path, { headers: { cookie } }),
    getText: async (path) => (await fetch(new URL(path, base), { headers: { cookie } })).text(),
    postJson: (path, body) =>
      call(path, { method: 'POST', headers: { cookie, origin, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  };
}

export interface SignedIn {
  getJson<T = any>(path: string): Promise<{ status: number; body: T }>;
  getText(path: string): Promise<string>;
  postJson<T = any>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}
