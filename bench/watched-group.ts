// Agents measured side by side (bench/shell-agent.ts, bench/four-agents.ts): each started as a
// process group of its own (bench/process-group.ts), its CPU and its memory summed over the group's
// processes, memory as RSS, as PSS and as the union of their pages (bench/resident-memory.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupMembers, TICK_MS } from './process-group.ts';
import { memoryFigures, residentByMapping, rollup } from './resident-memory.ts';

export interface WatchedGroup {
  name: string;
  child: ChildProcess;
  /** MiB, one entry a memory sample. */
  rss: number[];
  pss: number[];
  union: number[];
  processes: number[];
  cpu0: number;
  cpu1: number;
  /** The last 4000 characters it wrote to stderr. */
  stderr: () => string;
}

let stopping = false;

/** Starts a command as the leader of a new process group, measured and stopped as a whole. */
export function startGroup(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): WatchedGroup {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`${name} exited early (${code ?? signal}): ${stderr}\n`);
  });
  return { name, child, rss: [], pss: [], union: [], processes: [], cpu0: 0, cpu1: 0, stderr: () => stderr };
}

export const groupPids = (w: WatchedGroup): number[] => groupMembers(w.child.pid!).map((m) => m.pid);

/** One memory sample of the group; the union (reading every resident page's frame) only when asked. */
export function sampleMemory(w: WatchedGroup, withUnion: boolean): void {
  const pids = groupPids(w);
  const figures = memoryFigures(pids, withUnion);
  w.rss.push(figures.rssMiB);
  w.pss.push(figures.pssMiB);
  if (figures.unionMiB !== undefined) w.union.push(figures.unionMiB);
  w.processes.push(pids.length);
}

/**
 * CPU of a group so far, ms: each live process's threads' time on CPU in ns (schedstat: a shell
 * agent's 1 ms a second is 0.1 tick), and, in 10 ms ticks, what each reaped of children that
 * exited (df, the shell agent's status publisher).
 */
export function groupCpuPreciseMs(pgrp: number): number {
  let ms = 0;
  for (const m of groupMembers(pgrp)) {
    try {
      for (const tid of readdirSync(`/proc/${m.pid}/task`)) ms += Number(readFileSync(`/proc/${m.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      continue; // exited meanwhile: its parent reaps its time
    }
    ms += m.reapedTicks * TICK_MS;
  }
  return ms;
}

/** Samples every group's memory every 250 ms (the union every 2 s) for `seconds`, and their CPU over that time. */
export async function measure(groups: WatchedGroup[], seconds: number): Promise<number> {
  for (const w of groups) w.cpu0 = groupCpuPreciseMs(w.child.pid!);
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    for (const w of groups) sampleMemory(w, i % 8 === 0);
    await sleep(250);
  }
  for (const w of groups) w.cpu1 = groupCpuPreciseMs(w.child.pid!);
  return (performance.now() - t0) / 1000;
}

/** SIGTERM to each group this bench started, SIGKILL to what is left a moment later. */
export async function stopGroups(groups: WatchedGroup[]): Promise<void> {
  stopping = true;
  const signal = (s: NodeJS.Signals) => {
    for (const w of groups) {
      try {
        process.kill(-w.child.pid!, s);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  await sleep(1500);
  signal('SIGKILL');
}

/** What each process of a group holds (smaps_rollup, KiB) and its largest mappings: a few lines to print. */
export function describeProcesses(w: WatchedGroup): string[] {
  const lines: string[] = [];
  for (const pid of groupPids(w)) {
    const r = rollup(pid);
    if (!r) continue;
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // gone
    }
    lines.push(
      `  ${comm.padEnd(16)} Rss ${r.rss} Pss ${r.pss} Shared_Clean ${r.sharedClean} Private_Clean ${r.privateClean} Private_Dirty ${r.privateDirty} (KiB)`,
    );
    const top = residentByMapping(pid).slice(0, 6);
    lines.push(`    ${top.map((m) => `${m.name.replace(/^.*\//, '')} ${m.rss}${m.privateDirty ? ` (${m.privateDirty} dirty)` : ''}`).join(', ')}`);
  }
  return lines;
}

/** Installs a Debian package when missing and this runs as root with apt, as CI does. */
export function ensureInstalled(binary: string, pkg: string, who: string): boolean {
  const present = () => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
  if (present() || process.getuid?.() !== 0) return present();
  process.stderr.write(`${who}: installing ${pkg} with apt-get…\n`);
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 300_000,
  });
  return present();
}

/** The plugins of collectd that read what the shell agent reads, and MQTT out as it sends. */
export const COLLECTD_PLUGINS = ['cpu', 'load', 'memory', 'swap', 'df', 'disk', 'interface', 'thermal', 'uptime', 'mqtt'];

/** Writes a collectd.conf into `dir` (collectd's defaults otherwise) and returns its path. */
export function writeCollectdConf(dir: string, intervalS: number, brokerPort: number): string {
  const conf = join(dir, 'collectd.conf');
  writeFileSync(
    conf,
    [
      'Hostname "bench-collectd"',
      'FQDNLookup false',
      `Interval ${intervalS}`,
      `BaseDir "${dir}"`,
      `PIDFile "${dir}/collectd.pid"`,
      'PluginDir "/usr/lib/collectd"',
      'TypesDB "/usr/share/collectd/types.db"',
      'LoadPlugin logfile',
      '<Plugin logfile>\n  LogLevel warning\n  File STDERR\n</Plugin>',
      ...COLLECTD_PLUGINS.map((p) => `LoadPlugin ${p}`),
      `<Plugin mqtt>\n  <Publish "bench">\n    Host "127.0.0.1"\n    Port "${brokerPort}"\n    ClientId "collectd-bench"\n  </Publish>\n</Plugin>`,
    ].join('\n') + '\n',
  );
  return conf;
}

export const mean = (xs: number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
export const max = (xs: number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => Math.max(a, b), 0));
/** A figure for a table: '-' for one not measured (the union without root). */
export const figure = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
