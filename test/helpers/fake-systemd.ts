// Stand-ins for the OS boundary of the install scripts, which cannot run here: a fake `systemctl`
// that records its calls (no systemd runs in the test container), and a runner that starts a
// unit's ExecStart the way systemd would (credentials directory, state directory, environment).
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProcess, tempDir, type Spawned } from './parts.ts';

export interface FakeSystemctl {
  /** Put first on PATH. */
  binDir: string;
  /** Each call's arguments, one string per call. */
  calls(): string[];
}

export function fakeSystemctl(): FakeSystemctl {
  const dir = tempDir('remonitor-fake-systemd-');
  const binDir = join(dir, 'bin');
  const log = join(dir, 'calls');
  mkdirSync(binDir);
  writeFileSync(log, '');
  writeFileSync(join(binDir, 'systemctl'), `#!/bin/sh\n# fake systemctl for tests: records its arguments\necho "$*" >> '${log}'\n`);
  chmodSync(join(binDir, 'systemctl'), 0o755);
  return { binDir, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** `Key=value` lines of a unit's sections (the last one wins, as for single-valued keys). */
export function unitKeys(unitText: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of unitText.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, m[2]!);
  }
  return keys;
}

/**
 * Starts a unit's ExecStart as systemd would: LoadCredential= files copied into a private
 * credentials directory, StateDirectory= created, ${CREDENTIALS_DIRECTORY}/${STATE_DIRECTORY}
 * expanded, Environment= applied. Splits ExecStart on spaces (our units quote nothing).
 */
export function startUnit(unitText: string, extraEnv: NodeJS.ProcessEnv = {}): Spawned {
  const keys = unitKeys(unitText);
  const run = tempDir('remonitor-unit-');
  const env: Record<string, string> = {};
  const cred = keys.get('LoadCredential');
  if (cred) {
    const [id, source] = cred.split(/:(.*)/s) as [string, string];
    env.CREDENTIALS_DIRECTORY = join(run, 'credentials');
    mkdirSync(env.CREDENTIALS_DIRECTORY);
    copyFileSync(source, join(env.CREDENTIALS_DIRECTORY, id));
  }
  const state = keys.get('StateDirectory');
  if (state) {
    env.STATE_DIRECTORY = join(run, 'state', state);
    mkdirSync(env.STATE_DIRECTORY, { recursive: true });
  }
  for (const line of unitText.split('\n')) {
    const m = /^Environment=([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  const exec = keys.get('ExecStart');
  if (!exec) throw new Error('unit has no ExecStart');
  const argv = exec.split(' ').map((a) => a.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => env[name] ?? ''));
  // Not a terminal, like the journal: the logger writes JSON lines.
  return spawnProcess(argv[0]!, argv.slice(1), { cwd: run, env: { ...env, ...extraEnv } });
}
