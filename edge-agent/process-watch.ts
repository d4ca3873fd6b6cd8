// A watch: follows the processes that match a target (name, pid or command-line pattern) on its own
// timer and publishes a ProcsSample each interval. Reads /proc/<pid>/stat (CPU ticks, parent,
// threads) and /proc/<pid>/status (VmRSS, VmSize, RssAnon, RssFile, VmSwap) of matched processes
// only; /proc/<pid>/cmdline is read once per process (cached by pid and start time). A name or
// command-line watch counts the process that does the work, not what only launched it
// (wrapperPids), and never the agent itself.
import { readdirSync } from 'node:fs';
import type { WatchTarget } from '../protocol/commands.ts';
import { formatTarget } from '../protocol/commands.ts';
import { MAX_WATCHED, PROCS_VERSION, type ProcsSample, type WatchedProcess } from '../protocol/procs.ts';
import { readText } from './collectors/collector.ts';
import { LINUX_TICKS_PER_SECOND, monotonicNowMs } from './rates.ts';

export interface StatLine {
  pid: number;
  name: string;
  ppid: number;
  ticks: number;
  threads: number;
  startTicks: number;
  /**
   * Past exit(): a zombie, or its memory being torn down (PF_EXITING). Such a process has exited for
   * a watch: a reading then is half freed or empty (a zombie has no VmRSS), no part of how it used memory.
   */
  gone: boolean;
}

/** Linux task flag of a process past exit() (include/linux/sched.h). */
const PF_EXITING = 0x4;

/** Parses the fields of /proc/<pid>/stat a watch needs; undefined for a line it cannot read. */
export function parseStatLine(text: string): StatLine | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return undefined;
  // After the comm field, field 3 (state) is index 0: proc(5) field n is index n − 3.
  const f = text.slice(close + 2).split(' ');
  const num = (n: number) => Number(f[n - 3]);
  const gone = f[0] === 'Z' || f[0] === 'X' || (num(9) & PF_EXITING) !== 0;
  const line = {
    pid: Number(text.slice(0, open).trim()),
    name: text.slice(open + 1, close),
    ppid: num(4),
    ticks: num(14) + num(15),
    threads: num(20),
    startTicks: num(22),
    gone,
  };
  return Object.values(line).some((v) => typeof v === 'number' && !Number.isFinite(v)) ? undefined : line;
}

export interface StatusMemory {
  rss_bytes: number | null;
  vsize_bytes: number | null;
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  swap_bytes: number | null;
}

/** VmRSS, VmSize, RssAnon, RssFile, VmSwap of /proc/<pid>/status (kB there), in bytes; null when absent. */
export function parseStatusMemory(text: string): StatusMemory {
  const kb = (key: string): number | null => {
    const at = text.indexOf(`\n${key}:`);
    if (at < 0) return null;
    const m = /^\s*(\d+)\s*kB/.exec(text.slice(at + key.length + 2, at + key.length + 40));
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss_bytes: kb('VmRSS'), vsize_bytes: kb('VmSize'), rss_anon_bytes: kb('RssAnon'), rss_file_bytes: kb('RssFile'), swap_bytes: kb('VmSwap') };
}

/** A status file whose State line says zombie or dead: read after the process exited. */
export function isZombieStatus(text: string): boolean {
  return /\nState:\s*[ZX]/.test(text);
}

/** A process a name or command-line target matched: what the wrapper rule looks at. */
export interface MatchedProcess {
  pid: number;
  ppid: number;
  argv: readonly string[];
}

/** Shells, left out when running a command string (`-c`) whose process matches too. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh']);
/** Package runners (`npm exec`, `npm start`, `npx`…): they run the command in a child. */
const LAUNCHERS = new Set(['npm', 'npx', 'pnpm', 'pnpx', 'yarn']);
const LAUNCHER_SCRIPTS = new Set(['npm', 'npx', 'npm-cli.js', 'npx-cli.js', 'pnpm', 'pnpm.cjs', 'pnpm.js', 'yarn', 'yarn.js', 'yarn.cjs']);

/** The file name of a command; npm's process title puts the whole command in argv[0] ("npm exec node app.js"). */
function commandName(arg: string | undefined): string {
  const word = (arg ?? '').split(' ')[0]!;
  return word.slice(word.lastIndexOf('/') + 1);
}

function isShellCommand(argv: readonly string[]): boolean {
  if (!SHELLS.has(commandName(argv[0]))) return false;
  for (const arg of argv.slice(1)) {
    if (!arg.startsWith('-')) return false; // options come before the command string or script
    if (/^-[A-Za-z]*c/.test(arg)) return true;
  }
  return false;
}

function isLauncher(argv: readonly string[]): boolean {
  const name = commandName(argv[0]);
  return LAUNCHERS.has(name) || ((name === 'node' || name === 'nodejs') && LAUNCHER_SCRIPTS.has(commandName(argv[1])));
}

/** True when `outer` ends with every argument of `inner` and has more: `timeout 60 node app.js` around `node app.js`. */
function endsWithCommand(outer: readonly string[], inner: readonly string[]): boolean {
  if (inner.length === 0 || outer.length <= inner.length) return false;
  const offset = outer.length - inner.length;
  return inner.every((arg, i) => outer[offset + i] === arg);
}

/**
 * The matched processes that only launch another matched process, to be left out: a process is a
 * wrapper when one of its children matches too, and either its command line ends with that
 * child's whole command line (`timeout 60 node app.js`, `nice`, `sudo`, `time`, and
 * `remonitor record -- node app.js` around `node app.js`), or it is a shell running a command
 * string (`sh -c "node app.js; …"`), or a package runner (`npm exec`, `npm start`, `npx`). So the
 * innermost process is counted. A parent whose children run the same program (a cluster master
 * and its workers, nginx's master, a process that forks itself with other arguments) is no
 * wrapper: none of those rules holds, and all are counted.
 */
export function wrapperPids(matched: readonly MatchedProcess[]): Set<number> {
  const byPid = new Map(matched.map((m) => [m.pid, m]));
  const out = new Set<number>();
  for (const child of matched) {
    const parent = byPid.get(child.ppid);
    if (!parent || parent.pid === child.pid) continue;
    if (endsWithCommand(parent.argv, child.argv) || isShellCommand(parent.argv) || isLauncher(parent.argv)) out.add(parent.pid);
  }
  return out;
}

export interface ProcessWatchOptions {
  session: string;
  target: WatchTarget;
  intervalMs: number;
  /** Gets each watch sample; the agent publishes it on remonitor/<node>/procs. */
  publish: (sample: ProcsSample) => void;
  /** Also follow every descendant of the matched processes (remonitor record follows a command's children). */
  includeChildren?: boolean;
  procRoot?: string;
  ticksPerSecond?: number;
  /** Wall clock for ts_ms; the CPU rate uses the monotonic clock. */
  now?: () => number;
}

interface Tracked {
  startTicks: number;
  ticks: number;
  atMs: number;
  last: WatchedProcess;
}

export class ProcessWatch {
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private readonly tracked = new Map<number, Tracked>();
  private readonly cmdlines = new Map<number, { startTicks: number; argv: string[] }>();
  /** Processes once seen wrapping a matched child, by pid: start ticks. Left out for their whole life. */
  private readonly wrappers = new Map<number, number>();
  /** A pid target's process, by its start ticks: a later process given the same pid is not it. */
  private targetStartTicks: number | null = null;
  private stopped = true; // until start()
  readonly procRoot: string;
  /** Time and CPU spent in reads, for the overhead figure. */
  readonly cost = { samples: 0, cpuMicros: 0 };

  constructor(readonly options: ProcessWatchOptions) {
    this.procRoot = options.procRoot ?? '/proc';
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /** Samples after `firstDelayMs`, then every interval on its own timer (independent of the broker connection). */
  start(firstDelayMs = 0): void {
    this.stopped = false;
    this.loop(firstDelayMs);
  }

  private loop(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      try {
        this.options.publish(this.sampleNow());
      } catch {
        // fail soft: a failed read costs one sample, never the agent
      }
      this.loop(Math.max(0, due + this.options.intervalMs - Date.now()));
    }, delayMs);
    this.timer.unref?.();
  }

  /** Stops the timer; with `final`, publishes one last sample marked ended. */
  stop(final = true): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (final) {
      try {
        this.options.publish({ ...this.sampleNow(), ended: true });
      } catch {
        // the process table could not be read: the session still ends
      }
    }
  }

  /** Reads the matching processes now; processes gone since the last read come once, marked exited. */
  sampleNow(): ProcsSample {
    const cpuBefore = process.cpuUsage();
    const monoMs = monotonicNowMs();
    const { stats, wrappers } = this.matching();
    const seen = new Set<number>();
    const procs: WatchedProcess[] = [];
    const tps = this.options.ticksPerSecond ?? LINUX_TICKS_PER_SECOND;
    for (const stat of stats) {
      if (procs.length >= MAX_WATCHED) break;
      let mem: StatusMemory;
      let status: string;
      try {
        status = readText(`${this.procRoot}/${stat.pid}/status`);
        mem = parseStatusMemory(status);
      } catch {
        continue; // exited between the scan and this read: reported as exited below
      }
      const before = this.tracked.get(stat.pid);
      const same = before?.startTicks === stat.startTicks;
      // Exited between the stat read and this one: its memory is gone, so it ends with its last live values.
      if (isZombieStatus(status) || (same && mem.rss_bytes === null && before.last.rss_bytes > 0)) continue;
      seen.add(stat.pid);
      const elapsed = same ? monoMs - before.atMs : 0;
      const cpu = same && elapsed > 0 ? Math.round(((stat.ticks - before.ticks) / tps / (elapsed / 1000)) * 1000) / 10 : null;
      if (before && !same) procs.push({ ...before.last, exited: true }); // pid reused: the old one exited
      const row: WatchedProcess = {
        pid: stat.pid,
        name: stat.name,
        rss_bytes: mem.rss_bytes ?? 0,
        vsize_bytes: mem.vsize_bytes ?? 0,
        cpu_pct: cpu === null ? null : Math.max(0, cpu),
        threads: stat.threads,
        rss_anon_bytes: mem.rss_anon_bytes,
        rss_file_bytes: mem.rss_file_bytes,
        swap_bytes: mem.swap_bytes,
        exited: false,
      };
      procs.push(row);
      this.tracked.set(stat.pid, { startTicks: stat.startTicks, ticks: stat.ticks, atMs: monoMs, last: row });
    }
    for (const [pid, t] of this.tracked) {
      if (seen.has(pid)) continue;
      this.tracked.delete(pid);
      // Counted until its child appeared, then found to be a wrapper: left out, not exited.
      if (wrappers.has(pid)) continue;
      procs.push({ ...t.last, exited: true }); // exit seen: last values kept, sent once
      this.cmdlines.delete(pid);
    }
    const used = process.cpuUsage(cpuBefore);
    this.cost.samples++;
    this.cost.cpuMicros += used.user + used.system;
    return {
      v: PROCS_VERSION,
      session: this.options.session,
      seq: this.seq++,
      ts_ms: (this.options.now ?? Date.now)(),
      target: formatTarget(this.options.target),
      interval_ms: this.options.intervalMs,
      procs,
    };
  }

  /**
   * The stat lines of the processes that match now (and their descendants with includeChildren),
   * and the pids left out as wrappers.
   */
  private matching(): { stats: StatLine[]; wrappers: ReadonlySet<number> } {
    const { target, includeChildren } = this.options;
    const none: ReadonlySet<number> = new Set();
    if (target.kind === 'pid' && !includeChildren) {
      const s = this.readStat(target.pid);
      return { stats: s && this.matches(s) ? [s] : [], wrappers: none };
    }
    const all: StatLine[] = [];
    for (const entry of readdirSync(this.procRoot)) {
      const c = entry.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const s = this.readStat(Number(entry));
      if (s) all.push(s);
    }
    let roots = all.filter((s) => this.matches(s));
    let wrappers = none;
    if (target.kind !== 'pid') {
      wrappers = this.leaveOutWrappers(all, roots);
      roots = roots.filter((s) => !wrappers.has(s.pid));
    }
    if (!includeChildren) return { stats: roots, wrappers };
    // Descendants by parent pid, breadth first over the whole table.
    const children = new Map<number, StatLine[]>();
    for (const s of all) {
      const list = children.get(s.ppid);
      if (list) list.push(s);
      else children.set(s.ppid, [s]);
    }
    const out: StatLine[] = [];
    const queue = [...roots];
    const seen = new Set<number>();
    while (queue.length > 0 && out.length < MAX_WATCHED) {
      const s = queue.shift()!;
      if (seen.has(s.pid)) continue;
      seen.add(s.pid);
      if (!s.gone) out.push(s);
      queue.push(...(children.get(s.pid) ?? []));
    }
    return { stats: out, wrappers };
  }

  /** Updates the wrappers seen (wrapperPids), forgetting those gone, and returns their pids. */
  private leaveOutWrappers(all: readonly StatLine[], roots: readonly StatLine[]): ReadonlySet<number> {
    const alive = new Map(all.map((s) => [s.pid, s.startTicks]));
    for (const [pid, start] of this.wrappers) if (alive.get(pid) !== start) this.wrappers.delete(pid);
    for (const pid of wrapperPids(roots.map((s) => ({ pid: s.pid, ppid: s.ppid, argv: this.argv(s) })))) this.wrappers.set(pid, alive.get(pid)!);
    return new Set(this.wrappers.keys());
  }

  private readStat(pid: number): StatLine | undefined {
    try {
      return parseStatLine(readText(`${this.procRoot}/${pid}/stat`));
    } catch {
      return undefined;
    }
  }

  private matches(s: StatLine): boolean {
    const { target } = this.options;
    if (s.gone) return false; // reported as exited, with its last live values
    switch (target.kind) {
      case 'pid':
        if (s.pid !== target.pid) return false;
        this.targetStartTicks ??= s.startTicks;
        return s.startTicks === this.targetStartTicks;
      case 'name': {
        if (s.pid === process.pid) return false; // the agent itself (name:node) is never counted
        // comm is cut at 15 bytes; a longer name is checked against argv[0] too.
        if (s.name === target.name) return true;
        if (target.name.length > 15 && !target.name.startsWith(s.name)) return false;
        const argv0 = this.argv(s)[0] ?? '';
        return argv0 === target.name || argv0.slice(argv0.lastIndexOf('/') + 1) === target.name;
      }
      case 'cmdline':
        return s.pid !== process.pid && this.argv(s).join(' ').includes(target.pattern);
    }
  }

  private argv(s: StatLine): string[] {
    const cached = this.cmdlines.get(s.pid);
    if (cached && cached.startTicks === s.startTicks) return cached.argv;
    let argv: string[] = [];
    try {
      argv = readText(`${this.procRoot}/${s.pid}/cmdline`)
        .split('\0')
        .filter((a) => a.length > 0);
    } catch {
      // gone, or not ours to read: no command line
    }
    if (this.cmdlines.size > 4096) this.cmdlines.clear(); // bounded: a busy machine churns pids
    this.cmdlines.set(s.pid, { startTicks: s.startTicks, argv });
    return argv;
  }
}

/** Every process now, for `snapshot`'s reply: [pid, name, rss_bytes, threads]. */
export function listProcesses(procRoot = '/proc', pageSizeBytes = 4096): [number, string, number, number][] {
  const out: [number, string, number, number][] = [];
  for (const entry of readdirSync(procRoot)) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      const text = readText(`${procRoot}/${entry}/stat`);
      const s = parseStatLine(text);
      const rssPages = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[24 - 3]);
      if (s) out.push([s.pid, s.name, Number.isFinite(rssPages) ? rssPages * pageSizeBytes : 0, s.threads]);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
