// Starts a real PostgreSQL server for a test file (or a bench): a fresh cluster in a temporary
// directory, on a free loopback port, fsync on, stopped by `stop()`. initdb and postgres refuse
// to run as root, so as root they run as the `postgres` OS user (Debian's package creates it).
// Nothing here stands in for PostgreSQL; without its binaries the caller fails with a clear message.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PostgresServer {
  /** Connection string of the `postgres` database, as superuser `postgres` (trust auth, loopback only). */
  url: string;
  /** A new empty database on this server; returns its connection string. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown) and deletes its directory. */
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<version>/bin, or $REMONITOR_PG_BIN. */
function findBinDir(): string {
  if (process.env.REMONITOR_PG_BIN) return process.env.REMONITOR_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0])
    throw new Error(`no PostgreSQL server binaries under ${root}/<version>/bin (install Debian's "postgresql" package, or set REMONITOR_PG_BIN)`);
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'remonitor-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // As root: the same command through runuser, as the postgres user, which owns the directory.
  const pgCommand = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      try {
        await pgCommand('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']);
      } catch {
        // pg_ctl could not stop it: end the postmaster we started, by its PID (first line of postmaster.pid).
        const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // --no-sync only for initdb's template files; the server below runs with fsync on.
    await pgCommand('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    const port = await freePort();
    started = true;
    await pgCommand('pg_ctl', [
      'start',
      '-w',
      '-t',
      '30',
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`,
    ]);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let databases = 0;
    return {
      url,
      stop,
      async createDatabase() {
        const name = `test_${databases++}`;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
    };
  } catch (err) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    await stop().catch(() => undefined);
    throw new Error(`could not start PostgreSQL from ${bin} in ${dir}: ${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
}
