// The process list's kept /proc/<pid>/stat descriptors (KeptOpenFiles), against this machine's
// real /proc and real child processes: what is kept open, what is closed when a process exits,
// and that a fixture tree (not procfs) is opened afresh on every read.
import { readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeptOpenFiles } from '../../edge-agent/collectors/collector.ts';
import { runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

/** How many of this process's descriptors are open on `path`, as /proc/self/fd tells. */
function descriptorsOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // the descriptor readdir itself used, closed by now
    }
  }
  return n;
}

const statOf = (pid: string) => `/proc/${pid}/stat`;

describe.runIf(process.platform === 'linux')('KeptOpenFiles on /proc', () => {
  it('keeps a live process’s stat file open between rounds and closes it once the process has exited', async () => {
    const sleeper = spawnProcess('sleep', ['60']);
    const pid = String(sleeper.child.pid);
    const files = new KeptOpenFiles('/proc', statOf);

    expect(files.read(pid)).toMatch(new RegExp(`^${pid} \\(sleep\\) `));
    files.endRound();
    expect(descriptorsOn(statOf(pid))).toBe(1);
    expect(files.read(pid)).toMatch(/\(sleep\)/); // the same descriptor, read again from offset 0
    files.endRound();
    expect(descriptorsOn(statOf(pid))).toBe(1);

    sleeper.child.kill('SIGKILL');
    await sleeper.exited; // reaped: /proc/<pid> is gone
    expect(() => files.read(pid)).toThrow();
    files.endRound();
    expect(files.openCount).toBe(0);
  });

  it('closes the files not read in a round, and keeps at most maxKept open', async () => {
    const a = spawnProcess('sleep', ['60']);
    const b = spawnProcess('sleep', ['60']);
    const [pidA, pidB] = [String(a.child.pid), String(b.child.pid)];
    const files = new KeptOpenFiles('/proc', statOf, 1);

    files.read(pidA);
    files.read(pidB); // past maxKept: read through a descriptor closed at once
    files.endRound();
    expect(files.openCount).toBe(1);
    expect(descriptorsOn(statOf(pidA))).toBe(1);
    expect(descriptorsOn(statOf(pidB))).toBe(0);

    files.read(pidB); // a round without A: A's descriptor goes when it ends
    files.endRound();
    expect(descriptorsOn(statOf(pidA))).toBe(0);
    expect(descriptorsOn(statOf(pidB))).toBe(1);

    files.close();
    expect(descriptorsOn(statOf(pidB))).toBe(0);
    expect(files.openCount).toBe(0);
  });

  it('opens a file outside procfs and sysfs for every read, so a replaced file is seen', () => {
    const root = tempDir('remonitor-kept-');
    const path = join(root, '42');
    writeFileSync(path, '42 (old) S 1\n');
    const files = new KeptOpenFiles(root, (key) => join(root, key));
    expect(files.read('42')).toBe('42 (old) S 1\n');
    files.endRound();
    expect(files.openCount).toBe(0);
    writeFileSync(`${path}.new`, '42 (new) S 1\n');
    renameSync(`${path}.new`, path); // a kept descriptor would still read the old file
    expect(files.read('42')).toBe('42 (new) S 1\n');
  });
});
