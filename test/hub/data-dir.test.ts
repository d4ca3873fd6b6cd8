// The data directory and the database files: a directory that cannot serve (under /proc, a file,
// one this user may not write in) is refused at once with the path named, by the function and by
// `remonitor up`; a missing one is made private (0700), and auth.db is private (0600).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { DataDirError, prepareDataDir } from '../../shared/data-dir.ts';
import { CLI, cleanup, REPO, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const mode = (path: string) => statSync(path).mode & 0o777;

/** The error prepareDataDir throws for `dir`, and how long it took to say so. */
function refusal(dir: string): { message: string; ms: number } {
  const started = performance.now();
  try {
    prepareDataDir(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(DataDirError);
    return { message: (err as Error).message, ms: performance.now() - started };
  }
  throw new Error(`${dir} was accepted as a data directory`);
}

const upArgs = (dataDir: string, extra: string[]) => [
  CLI,
  'up',
  '--data-dir',
  dataDir,
  '--no-agent',
  '--mqtt-port',
  '0',
  '--http-port',
  '0',
  '--log-level',
  'warn',
  ...extra,
];

/** `remonitor up` on `dataDir` (no agent, ephemeral ports). */
const up = (dataDir: string, extra: string[] = []) => spawnProcess(process.execPath, upArgs(dataDir, extra));

/**
 * The same without the capabilities that let root write anywhere (setpriv drops CAP_DAC_OVERRIDE
 * and CAP_DAC_READ_SEARCH from its bounding set), with its exit code and output; killed (by its PID)
 * if it outlives the test. Unlike running it as another user, it still reads this checkout wherever
 * the checkout lies (a CI clone in a 0700 temporary directory, say).
 */
async function upWithoutOverride(dataDir: string, extra: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, ...upArgs(dataDir, extra)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('the data directory', () => {
  it('refuses a path under /proc at once, naming it (mkdir -p there used to spin forever)', () => {
    const { message, ms } = refusal('/proc/x');
    expect(message).toBe('cannot use the data directory /proc/x: /proc is on proc, a view of the kernel that stores no files; give a directory on a disk');
    // The bound: a clear error within a second.
    expect(ms).toBeLessThan(1000);
  });

  it('refuses a file, and a path below a file, naming both', () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    expect(refusal(file).message).toBe(`the data directory ${file} is a file, not a directory`);
    expect(refusal(join(file, 'sub')).message).toBe(`cannot make the data directory ${file}/sub: ${file} is a file, not a directory`);
  });

  it('makes a missing directory, with its missing parents, private to the user', () => {
    const base = tempDir();
    const dir = join(base, 'a', 'b', 'data');
    expect(prepareDataDir(dir)).toBe(dir);
    expect(mode(dir)).toBe(0o700);
    expect(statSync(join(base, 'a')).isDirectory()).toBe(true);
    expect(prepareDataDir(dir)).toBe(dir); // an existing one is fine
  });

  it('refuses a directory this user may not write in', async () => {
    const base = tempDir();
    const dir = join(base, 'locked');
    mkdirSync(dir);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(refusal(dir).message).toBe(`cannot write in the data directory ${dir}: this user (uid ${process.getuid?.()}) may not write there`);
      return;
    }
    // As root every directory is writable: `remonitor up` runs as root without the override, over
    // a directory whose mode denies writing, the way a service meets a volume it was not given.
    chmodSync(dir, 0o555);
    const { code, output } = await upWithoutOverride(dir, ['--insecure']);
    expect(code, output).toBe(1);
    expect(output).toContain(`remonitor up: cannot write in the data directory ${dir}: this user (uid 0) may not write there`);
  });

  it('`remonitor up --data-dir /proc/x` exits with the error instead of spinning', async () => {
    for (const extra of [[], ['--insecure']]) {
      const started = performance.now();
      const hub = up('/proc/x', extra);
      const { code } = await hub.exited;
      expect(code, hub.output()).toBe(1);
      expect(hub.output()).toContain('remonitor up: cannot use the data directory /proc/x: /proc is on proc');
      console.log(`remonitor up --data-dir /proc/x ${extra.join(' ')}: exit 1 after ${Math.round(performance.now() - started)} ms (node start-up included)`);
    }
  });
});

describe('auth.db', () => {
  it('makes auth.db 0600 in a 0700 directory, and tightens an older auth.db', () => {
    const dir = join(tempDir(), 'data');
    openAuthDb(dir).close();
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'auth.db'))).toBe(0o600);
    chmodSync(join(dir, 'auth.db'), 0o644); // as an earlier version left it
    openAuthDb(dir).close();
    expect(mode(join(dir, 'auth.db'))).toBe(0o600);
  });
});
