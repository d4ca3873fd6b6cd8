// Per-container CPU, memory, network and block I/O from cgroup v2 files, read directly each sample
// (four small files a container); which containers exist, their names and images from the Docker
// (or Podman) API on its Unix socket, asked every `refreshMs` only.
//
// Values: container_cpu_pct (of one core, may pass 100), container_mem_bytes (memory.current),
// container_mem_pct (of memory.max, only when it has a limit), container_read_bps /
// container_write_bps (io.stat, all devices), container_net_rx_bps / container_net_tx_bps
// (/proc/<pid>/net/dev of the container's first process, left out when it shares the host's network
// namespace), container_running (1 running, 0 restarting, paused or exited: reported for containers
// this agent has seen running, so an old exited one never shows). Labels {container, image}; without
// the API a container is named by its short id and has no image label.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { bytesPerSecond } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { readText, type Collector } from './collector.ts';
import { parseNetDev, type InterfaceCounters } from './network.ts';
import { addSeries, logOncePer, PeriodicJob } from './series.ts';

export interface ContainersOptions {
  /** Where cgroup v2 is mounted. Default /sys/fs/cgroup. */
  cgroupRoot?: string;
  /** procfs, for a container's network counters. Default /proc. */
  procRoot?: string;
  /** API sockets tried in order; the first that answers names the containers. */
  sockets?: readonly string[];
  /** How often the container list (cgroup directories and the API) is read again, ms. Default 30 s. */
  refreshMs?: number;
  log?: (msg: string) => void;
}

export const DEFAULT_CONTAINER_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'];

/** One container as the API lists it (the part used here). */
export interface ApiContainer {
  id: string;
  name: string;
  image: string;
  state: string;
}

/** Parses GET /containers/json (Docker Engine API; Podman's compatible API answers the same). */
export function parseContainerList(json: unknown): ApiContainer[] {
  if (!Array.isArray(json)) throw new Error('container list: expected a JSON array');
  return json.flatMap((c: unknown): ApiContainer[] => {
    if (c === null || typeof c !== 'object') return [];
    const { Id, Names, Image, State } = c as Record<string, unknown>;
    if (typeof Id !== 'string') return [];
    const first = Array.isArray(Names) && typeof Names[0] === 'string' ? Names[0].replace(/^\//, '') : Id.slice(0, 12);
    return [{ id: Id, name: first, image: typeof Image === 'string' ? Image : '', state: typeof State === 'string' ? State : '' }];
  });
}

/** The cgroup v2 directories of containers under the layouts Docker and Podman use, by container id. */
export function findContainerCgroups(cgroupRoot: string): Map<string, string> {
  const found = new Map<string, string>();
  const scan = (dir: string, pattern: RegExp) => {
    let names: string[];
    try {
      names = readdirSync(`${cgroupRoot}/${dir}`);
    } catch {
      return; // this layout is not in use
    }
    for (const name of names) {
      const id = pattern.exec(name)?.[1];
      if (id) found.set(id, `${cgroupRoot}/${dir}/${name}`);
    }
  };
  scan('system.slice', /^docker-([0-9a-f]{64})\.scope$/); // Docker, systemd cgroup driver
  scan('docker', /^([0-9a-f]{64})$/); // Docker, cgroupfs driver
  scan('machine.slice', /^libpod-([0-9a-f]{64})\.scope$/); // Podman as root
  return found;
}

/** cpu.stat's usage_usec: CPU time of every task in the cgroup, µs. */
export function parseCpuUsageUsec(text: string): number | undefined {
  const m = /^usage_usec (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** io.stat summed over devices: bytes read and written. Lines: `MAJ:MIN rbytes=N wbytes=N rios=N …`. */
export function parseIoStat(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of text.matchAll(/\b([rw])bytes=(\d+)/g)) {
    if (m[1] === 'r') read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}

/** memory.max: a byte count, or `max` for no limit (undefined). */
export function parseMemoryMax(text: string): number | undefined {
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

interface Tracked {
  dir: string;
  labels: Record<string, string>;
  memMax: number | undefined;
  /** A process of the container whose network namespace is not the host's; undefined: skip network. */
  netPid: number | undefined;
  prev?: { atMs: number; cpuUsec: number | undefined; io: { read: number; write: number } | undefined; net: InterfaceCounters | undefined };
}

function readOptional(path: string): string | undefined {
  try {
    return readText(path);
  } catch {
    return undefined;
  }
}

/** Docker API over its Unix socket (HTTP/1.1), with a deadline. */
function getJson(socketPath: string, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'localhost' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > 4 * 1024 * 1024) req.destroy(new Error(`${socketPath}: answer over 4 MiB`));
        else chunks.push(d);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${socketPath} GET ${path}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(new Error(`${socketPath} GET ${path}: ${(err as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${socketPath}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function createContainersCollector(options: ContainersOptions = {}): Collector {
  const cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
  const procRoot = options.procRoot ?? '/proc';
  const sockets = options.sockets ?? DEFAULT_CONTAINER_SOCKETS;
  const refreshMs = options.refreshMs ?? 30_000;
  const logOnce = logOncePer(options.log ?? ((msg) => console.warn(msg)));
  const tracked = new Map<string, Tracked>();
  const seenRunning = new Set<string>();
  let apiList: ApiContainer[] | undefined;
  let checkedV2 = false;
  let v2FailedAtMs = -Infinity;

  const hostNetNs = (() => {
    try {
      return readlinkSync(`${procRoot}/self/ns/net`);
    } catch {
      return undefined;
    }
  })();

  const askApi = new PeriodicJob<ApiContainer[] | undefined>(
    refreshMs,
    async () => {
      for (const socket of sockets) {
        try {
          statSync(socket);
        } catch {
          continue; // no such engine here
        }
        try {
          return parseContainerList(await getJson(socket, '/containers/json?all=1', 2000));
        } catch (err) {
          logOnce(`api:${socket}`, `containers: ${socket} did not list the containers (${(err as Error).message}); they are named by id`);
        }
      }
      return undefined;
    },
    () => undefined,
  );

  /** A pid of the container with a network namespace of its own, or undefined. */
  const netPidOf = (dir: string): number | undefined => {
    const pid = Number.parseInt(readText(`${dir}/cgroup.procs`), 10);
    if (!Number.isInteger(pid)) return undefined;
    try {
      const ns = readlinkSync(`${procRoot}/${pid}/ns/net`);
      return hostNetNs !== undefined && ns === hostNetNs ? undefined : pid;
    } catch {
      return undefined;
    }
  };

  const refresh = () => {
    const dirs = findContainerCgroups(cgroupRoot);
    const named = new Map((apiList ?? []).map((c) => [c.id, c]));
    for (const id of tracked.keys()) if (!dirs.has(id)) tracked.delete(id);
    for (const [id, dir] of dirs) {
      const api = named.get(id);
      const labels: Record<string, string> = { container: api?.name ?? id.slice(0, 12) };
      if (api?.image) labels.image = api.image;
      let memMax: number | undefined;
      let netPid: number | undefined;
      try {
        memMax = parseMemoryMax(readText(`${dir}/memory.max`));
        netPid = netPidOf(dir);
      } catch {
        // no memory controller or no process (the container is stopping): figures without them
      }
      const t = tracked.get(id);
      if (t) Object.assign(t, { dir, labels, memMax, netPid });
      else tracked.set(id, { dir, labels, memMax, netPid });
    }
  };

  let refreshedAtMs = -Infinity;
  let listSeen: ApiContainer[] | undefined;

  return {
    name: 'containers',
    collect(out: Reading, nowMs: number) {
      if (!checkedV2) {
        // Without cgroup v2 this throws (one log line, no values), again only once a refresh: a
        // machine does not change its cgroup hierarchy while up, and a failed stat each second is waste.
        if (nowMs - v2FailedAtMs < refreshMs) return;
        v2FailedAtMs = nowMs;
        statSync(`${cgroupRoot}/cgroup.controllers`);
        checkedV2 = true;
      }
      apiList = askApi.poll(nowMs);
      // The list is read again every refreshMs, and at once when the API has answered anew.
      if (!(nowMs - refreshedAtMs < refreshMs) || apiList !== listSeen) {
        refresh();
        refreshedAtMs = nowMs;
        listSeen = apiList;
      }
      for (const [id, t] of tracked) {
        let cpuUsec: number | undefined;
        try {
          cpuUsec = parseCpuUsageUsec(readText(`${t.dir}/cpu.stat`)); // cpu.stat is there whatever the controllers
        } catch {
          tracked.delete(id); // it has gone; the next refresh finds it again if not
          continue;
        }
        // memory.current and io.stat exist only where those controllers are enabled.
        const memText = readOptional(`${t.dir}/memory.current`);
        const mem = memText === undefined ? Number.NaN : Number(memText.trim());
        const ioText = readOptional(`${t.dir}/io.stat`);
        const io = ioText === undefined ? undefined : parseIoStat(ioText);
        let net: InterfaceCounters | undefined;
        if (t.netPid !== undefined) {
          try {
            net = { rx: 0, tx: 0 };
            for (const c of parseNetDev(readText(`${procRoot}/${t.netPid}/net/dev`)).values()) {
              net.rx += c.rx;
              net.tx += c.tx;
            }
          } catch {
            t.netPid = undefined; // that process has exited; the next refresh picks another
            net = undefined;
          }
        }
        const { labels } = t;
        if (Number.isFinite(mem)) {
          addSeries(out, 'container_mem_bytes', labels, mem);
          if (t.memMax !== undefined) addSeries(out, 'container_mem_pct', labels, Math.round((mem / t.memMax) * 10_000) / 100);
        }
        const p = t.prev;
        if (p) {
          const elapsedMs = nowMs - p.atMs;
          if (cpuUsec !== undefined && p.cpuUsec !== undefined && elapsedMs > 0 && cpuUsec >= p.cpuUsec) {
            addSeries(out, 'container_cpu_pct', labels, Math.round(((cpuUsec - p.cpuUsec) / 1000 / elapsedMs) * 10_000) / 100);
          }
          if (io && p.io) {
            const read = bytesPerSecond(p.io.read, io.read, elapsedMs);
            const write = bytesPerSecond(p.io.write, io.write, elapsedMs);
            if (read !== undefined) addSeries(out, 'container_read_bps', labels, read);
            if (write !== undefined) addSeries(out, 'container_write_bps', labels, write);
          }
          if (net && p.net) {
            const rx = bytesPerSecond(p.net.rx, net.rx, elapsedMs);
            const tx = bytesPerSecond(p.net.tx, net.tx, elapsedMs);
            if (rx !== undefined) addSeries(out, 'container_net_rx_bps', labels, rx);
            if (tx !== undefined) addSeries(out, 'container_net_tx_bps', labels, tx);
          }
        }
        t.prev = { atMs: nowMs, cpuUsec, io, net };
      }
      for (const c of apiList ?? []) {
        const running = c.state === 'running';
        if (running) seenRunning.add(c.id);
        else if (!seenRunning.has(c.id)) continue;
        const labels: Record<string, string> = { container: c.name };
        if (c.image) labels.image = c.image;
        addSeries(out, 'container_running', labels, running ? 1 : 0);
      }
    },
  };
}
