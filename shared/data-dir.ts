// The data directory, checked (and made, private to the user) before anything is stored in it: a
// wrong --data-dir is one clear error at start that names the path, never a hang or a bare SQLite
// message later. Node's mkdirSync({ recursive: true }) loops forever under /proc (mkdir there says
// ENOENT, which it takes for a missing parent), so the missing levels are made one at a time here.
import { closeSync, mkdirSync, openSync, statfsSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A data directory (or a database file's directory) that cannot be used, with the path named. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

// statfs f_type of Linux filesystems that are views of the kernel, not storage: a database there
// cannot be made (proc, sysfs) or makes kernel objects instead of files (cgroup).
const KERNEL_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x19800202, 'mqueue'],
]);

/** Mode bits of a directory nobody else may read or enter, and of a file nobody else may read. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const errorText = (err: unknown) => (err as Error).message;

function statOrMissing(path: string, of: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new DataDirError(`cannot use ${of}: ${errorText(err)}`);
  }
}

/**
 * Makes sure `dir` is a directory on a real filesystem that this process can write in: made (0700,
 * its missing parents as mkdir -p makes them) when it does not exist. Returns the absolute path.
 * Throws a DataDirError naming the path otherwise; a few system calls, so at once.
 * `what` names the directory in messages ("the data directory").
 */
export function prepareDirectory(dir: string, what = 'the directory'): string {
  const path = resolve(dir);
  const of = `${what} ${path}`;
  const missing: string[] = [];
  let existing = path;
  let stats = statOrMissing(existing, of);
  while (!stats) {
    missing.unshift(existing);
    existing = dirname(existing);
    stats = statOrMissing(existing, of);
  }
  if (!stats.isDirectory()) {
    throw new DataDirError(existing === path ? `${of} is a file, not a directory` : `cannot make ${of}: ${existing} is a file, not a directory`);
  }
  const kernelFs = kernelFilesystem(existing);
  if (kernelFs)
    throw new DataDirError(`cannot use ${of}: ${existing} is on ${kernelFs}, a view of the kernel that stores no files; give a directory on a disk`);
  for (const [i, level] of missing.entries()) {
    try {
      mkdirSync(level, i === missing.length - 1 ? { mode: PRIVATE_DIR_MODE } : undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrMissing(level, of)?.isDirectory()) continue; // made meanwhile
      throw new DataDirError(`cannot make ${of}: ${errorText(err)}`);
    }
  }
  checkWritable(path, of);
  return path;
}

/** The data directory: prepareDirectory, named as such in its errors. */
export function prepareDataDir(dir: string): string {
  return prepareDirectory(dir, 'the data directory');
}

/** The mode of a directory when others may read or enter it (so a caller can say so), else null. */
export function openToOthers(dir: string): number | null {
  const mode = statSync(dir).mode & 0o777;
  return mode & 0o077 ? mode : null;
}

function kernelFilesystem(path: string): string | null {
  if (process.platform !== 'linux') return null;
  try {
    return KERNEL_FILESYSTEMS.get(Number(statfsSync(path).type)) ?? null;
  } catch {
    return null; // not knowing the filesystem is no reason to refuse it
  }
}

/** Creates and deletes a file: the only test that also sees read-only mounts, ACLs and quotas. */
function checkWritable(path: string, of: string): void {
  const probe = join(path, `.remonitor-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w', PRIVATE_FILE_MODE));
    unlinkSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EROFS'
        ? 'it is on a read-only filesystem'
        : code === 'EACCES' || code === 'EPERM'
          ? `this user (uid ${process.getuid?.() ?? '?'}) may not write there`
          : errorText(err);
    throw new DataDirError(`cannot write in ${of}: ${why}`);
  }
}
