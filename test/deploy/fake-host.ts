// A stand-in for the root of a host, where the install scripts write when given no --prefix: a
// private mount namespace (unshare -m, so root only) in which /etc is a copy of this machine's and
// /opt, /usr/local/bin, /var/lib and /run are empty temporary folders, so nothing of the real
// host changes. /run/systemd/system is there when systemd is to look running (sd_booted(3) checks
// exactly that); a fake systemctl (test/helpers/fake-systemd.ts) answers for it. The test reads
// what the scripts wrote in those folders from outside, through `outside(path)`.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProcess, tempDir, type Spawned } from '../helpers/parts.ts';

/** Host folders replaced inside the fake host, and their stand-ins under its temporary folder. */
const FAKED: Record<string, string> = { '/etc': 'etc', '/opt': 'opt', '/usr/local/bin': 'usr-local-bin', '/var/lib': 'var-lib', '/run': 'run' };

export interface FakeHost {
  /** Where a path inside the fake host is, seen from outside. */
  outside(path: string): string;
  /** The same text with every faked path replaced by where it is seen from outside (a unit, a message). */
  outsideText(text: string): string;
  run(argv: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  spawn(argv: string[], env: NodeJS.ProcessEnv): Spawned;
}

export function fakeHost({ systemdRunning }: { systemdRunning: boolean }): FakeHost {
  const node = realpathSync(execFileSync('/bin/sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
  for (const folder of Object.keys(FAKED)) {
    if (node.startsWith(`${folder}/`)) throw new Error(`node is ${node}, under ${folder}, which the fake host replaces: install Node.js elsewhere (/usr/bin)`);
  }
  const dir = tempDir('remonitor-fake-host-');
  for (const name of Object.values(FAKED)) mkdirSync(join(dir, name));
  cpSync('/etc', join(dir, 'etc'), { recursive: true, verbatimSymlinks: true });
  if (systemdRunning) mkdirSync(join(dir, 'run/systemd/system'), { recursive: true });

  const binds = Object.entries(FAKED)
    .map(([folder, name]) => `mount --bind "$0/${name}" ${folder}`)
    .join(' && ');
  const wrap = (argv: string[]) => ['--mount', '--propagation', 'private', '/bin/sh', '-c', `${binds} && exec "$@"`, dir, ...argv];
  const outside = (path: string) => {
    const folder = Object.keys(FAKED).find((f) => path === f || path.startsWith(`${f}/`));
    return folder ? join(dir, FAKED[folder]!, path.slice(folder.length)) : path;
  };
  return {
    outside,
    outsideText: (text) => text.replace(/(?<![\w/.-])\/(etc|opt|usr\/local\/bin|var\/lib|run)(\/[^\s:'"]*)?/g, (path) => outside(path)),
    run: (argv, env) => spawnSync('unshare', wrap(argv), { encoding: 'utf8', env }),
    spawn: (argv, env) => spawnProcess('unshare', wrap(argv), { env }),
  };
}
