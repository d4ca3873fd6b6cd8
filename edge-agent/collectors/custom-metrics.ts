// A node's own metrics, in the Prometheus text format: `*.prom` files in a directory (node_exporter's
// textfile convention: write to a temporary name, then rename), read again only when a file's
// mtime or size changes; and commands run at their own interval whose stdout is that format.
// Every metric becomes a `series` value under its own name and labels. A bad file, line or command
// costs its own values and one log line naming it (again only when the problem changes).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { LabelledValue } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';
import type { Collector } from './collector.ts';
import { parsePromText } from './prom-text.ts';
import { addAllSeries, PeriodicJob } from './series.ts';

/** A file or a command's output larger than this is refused whole: no node's own metrics need more. */
export const MAX_CUSTOM_TEXT_BYTES = 1024 * 1024;

/** `--exec NAME=COMMAND@INTERVAL`. */
export interface ExecSpec {
  name: string;
  command: string;
  everyMs: number;
}

/** Logs a source's problem when it differs from the one last logged for that source; clears on success. */
function problemLog(log: (msg: string) => void): (source: string, problem: string | undefined) => void {
  const last = new Map<string, string>();
  return (source, problem) => {
    if (problem === undefined) {
      last.delete(source);
      return;
    }
    if (last.get(source) === problem) return;
    last.set(source, problem);
    log(problem);
  };
}

function describeProblem(where: string, parsed: ReturnType<typeof parsePromText>): string | undefined {
  const p = parsed.problem;
  if (!p) return undefined;
  const more = parsed.badLines > 1 ? ` (and ${parsed.badLines - 1} more bad line${parsed.badLines > 2 ? 's' : ''})` : '';
  return `${where} line ${p.line}: ${p.message}${more}; that line is skipped, the rest is read`;
}

export function createTextfileCollector(dir: string, log: (msg: string) => void): Collector {
  const problem = problemLog(log);
  const cache = new Map<string, { mtimeMs: number; size: number; values: LabelledValue[] }>();
  return {
    name: 'textfile',
    collect(out: Reading) {
      const names = readdirSync(dir).filter((n) => n.endsWith('.prom')); // a missing directory: one line, no values
      const present = new Set<string>();
      for (const name of names.sort()) {
        const path = join(dir, name);
        present.add(path);
        let st: Stats;
        try {
          st = statSync(path);
        } catch {
          continue; // renamed away between readdir and stat
        }
        let entry = cache.get(path);
        if (!entry || entry.mtimeMs !== st.mtimeMs || entry.size !== st.size) {
          entry = { mtimeMs: st.mtimeMs, size: st.size, values: [] };
          cache.set(path, entry);
          if (st.size > MAX_CUSTOM_TEXT_BYTES) {
            problem(path, `textfile ${path}: ${st.size} bytes, over the ${MAX_CUSTOM_TEXT_BYTES}-byte limit; the file is skipped`);
            continue;
          }
          try {
            const parsed = parsePromText(readFileSync(path, 'utf8'));
            entry.values = parsed.values;
            problem(path, describeProblem(`textfile ${path}`, parsed));
          } catch (err) {
            problem(path, `textfile ${path}: ${(err as Error).message}; the file is skipped`);
          }
        }
        addAllSeries(out, entry.values);
      }
      for (const path of cache.keys()) if (!present.has(path)) cache.delete(path);
    },
  };
}

/**
 * Runs a command line through /bin/sh in a process group of its own; resolves with stdout once it
 * exits 0. On timeout the whole group is killed: a shell's child (`sleep`, a pipeline) would
 * otherwise hold stdout open and the run would never end.
 */
function runShell(command: string, timeoutMs: number, live: Set<ChildProcess>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: string | undefined;
    const killGroup = (why: string) => {
      failure ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the group this collector started, by its id
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => killGroup(`no answer in ${timeoutMs} ms (killed)`), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_CUSTOM_TEXT_BYTES) killGroup(`output over ${MAX_CUSTOM_TEXT_BYTES} bytes (killed)`);
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-1000)));
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    // 'close': exited and its output read to the end (the timer still kills a group that holds it open).
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (code === 0 && failure === undefined) return resolve(Buffer.concat(out).toString('utf8'));
      const why = failure ?? (code !== null ? `exited ${code}` : `killed by ${signal}`);
      const said = stderr.trim().split('\n').at(-1)?.slice(0, 200);
      reject(new Error(said ? `${why}: ${said}` : why));
    });
  });
}

/** How long a command may run: its interval (it must not overlap itself) but at most 30 s. */
export const execTimeoutMs = (everyMs: number): number => Math.min(everyMs, 30_000);

export function createExecCollector(specs: readonly ExecSpec[], log: (msg: string) => void): Collector {
  const problem = problemLog(log);
  const live = new Set<ChildProcess>();
  const jobs = specs.map(
    (spec) =>
      new PeriodicJob<LabelledValue[]>(
        spec.everyMs,
        async () => {
          const parsed = parsePromText(await runShell(spec.command, execTimeoutMs(spec.everyMs), live));
          problem(spec.name, describeProblem(`exec ${spec.name} (${spec.command}): output`, parsed));
          return parsed.values;
        },
        (err) => problem(spec.name, `exec ${spec.name} (${spec.command}): ${(err as Error).message}; its values are left out until it succeeds`),
      ),
  );
  return {
    name: 'exec',
    collect(out: Reading, nowMs: number) {
      for (const job of jobs) addAllSeries(out, job.poll(nowMs) ?? []);
    },
    close() {
      // Commands still running when the agent stops go with it: their groups, by the ids this collector started.
      for (const child of live) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}
