// The collectors of labelled values, against a fake machine: test/fixtures/fake-machine/ (a fake
// cgroup v2 tree, /proc and /sys; see its README) stands in for the OS, a fake Docker API on a Unix
// socket for the engine, and stand-in scripts on disk for systemctl, smartctl, timedatectl and
// chronyc (named fake-*). The clock is the sampler's monotonic one, passed in.
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabelledValue } from '../../protocol/index.ts';
import type { Collector } from '../../edge-agent/collectors/collector.ts';
import { createClockCollector, parseChronyTracking } from '../../edge-agent/collectors/clock.ts';
import { createContainersCollector, parseIoStat } from '../../edge-agent/collectors/containers.ts';
import { createExecCollector, createTextfileCollector } from '../../edge-agent/collectors/custom-metrics.ts';
import { createPiSignalsCollector, parseWireless } from '../../edge-agent/collectors/pi-signals.ts';
import { parsePromText } from '../../edge-agent/collectors/prom-text.ts';
import { createServicesCollector, parseUnitStates } from '../../edge-agent/collectors/services.ts';
import { createStorageHealthCollector, parseHexLevels } from '../../edge-agent/collectors/storage-health.ts';
import { createLinuxSampler } from '../../edge-agent/linux-sampler.ts';
import type { Reading } from '../../edge-agent/sampler.ts';
import { capSeries, collectorList, execList, MAX_SAMPLE_SERIES, serviceList, withSeriesCollectors } from '../../edge-agent/series-collectors.ts';
import { cleanup, runCleanups, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const FIXTURE = new URL('../fixtures/fake-machine/', import.meta.url).pathname;
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A writable copy of the fake machine, for counters that move. */
function fakeMachine() {
  const dir = tempDir();
  cpSync(FIXTURE, dir, { recursive: true, verbatimSymlinks: true });
  return {
    proc: join(dir, 'proc'),
    sys: join(dir, 'sys'),
    cgroup: join(dir, 'sys/fs/cgroup'),
    write: (rel: string, text: string) => writeFileSync(join(dir, rel), text),
  };
}

/** One collect, synchronous or not; the values it added, by `name{k=v,…}`. */
async function collect(c: Collector, nowMs: number): Promise<Map<string, number>> {
  const out: Reading = {};
  await c.collect(out, nowMs);
  return byKey(out.series ?? []);
}

function byKey(series: readonly LabelledValue[]): Map<string, number> {
  return new Map(
    series.map((v) => [
      `${v.name}{${Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(',')}}`,
      v.value,
    ]),
  );
}

/** Collects until `ready` holds of the values (a background job has answered), bounded. */
async function collectUntil(c: Collector, nowMs: number, ready: (m: Map<string, number>) => boolean): Promise<Map<string, number>> {
  for (let i = 0; i < 200; i++) {
    const m = await collect(c, nowMs);
    if (ready(m)) return m;
    await sleep(20);
  }
  throw new Error(`${c.name}: values never came`);
}

/** A stand-in for a system command: a shell script that prints `body`'s output. */
function fakeCommand(name: string, body: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A fake Docker Engine API on a Unix socket: GET /containers/json answers `list.current`. */
async function fakeDockerApi(list: { current: unknown[] }) {
  const socketPath = join(tempDir(), 'fake-docker.sock');
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url?.startsWith('/containers/json')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list.current));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((ok) => server.listen(socketPath, ok));
  cleanup(() => new Promise<void>((ok) => server.close(() => ok())));
  return { socketPath, paths };
}

describe('containers collector', () => {
  it('reads CPU, memory, block I/O and network per container from cgroup v2, named by the (fake) Docker API', async () => {
    const m = fakeMachine();
    const list = {
      current: [
        { Id: A, Names: ['/web'], Image: 'nginx:1.27', State: 'running' },
        { Id: B, Names: ['/db'], Image: 'postgres:16', State: 'running' },
      ] as unknown[],
    };
    const api = await fakeDockerApi(list);
    const c = createContainersCollector({
      cgroupRoot: m.cgroup,
      procRoot: m.proc,
      sockets: [join(tempDir(), 'absent.sock'), api.socketPath],
      refreshMs: 10_000,
    });
    const first = await collectUntil(c, 0, (v) => v.has('container_running{container=web,image=nginx:1.27}'));
    expect(api.paths).toEqual(['/containers/json?all=1']);
    expect(first.get('container_mem_bytes{container=web,image=nginx:1.27}')).toBe(104_857_600);
    expect(first.get('container_mem_pct{container=web,image=nginx:1.27}')).toBe(50);
    expect(first.get('container_mem_bytes{container=db,image=postgres:16}')).toBe(52_428_800);
    expect(first.has('container_mem_pct{container=db,image=postgres:16}')).toBe(false); // memory.max is "max"
    expect(first.get('container_running{container=db,image=postgres:16}')).toBe(1);

    // One second later: web used 0.5 s of CPU, read 3000 and wrote 1000 bytes, received 2000 and sent 500.
    m.write(`sys/fs/cgroup/system.slice/docker-${A}.scope/cpu.stat`, 'usage_usec 5500000\n');
    m.write(
      `sys/fs/cgroup/system.slice/docker-${A}.scope/io.stat`,
      '179:0 rbytes=1002000 wbytes=2001000 rios=11 wios=21\n8:0 rbytes=501000 wbytes=0 rios=5 wios=0\n',
    );
    const dev = readFileSync(join(m.proc, '4100/net/dev'), 'utf8').replace('300000', '302000').replace('150000', '150500');
    m.write('proc/4100/net/dev', dev);
    m.write(`sys/fs/cgroup/docker/${B}/cpu.stat`, 'usage_usec 3000000\n'); // 2 cores busy: 200 %
    const second = await collect(c, 1000);
    expect(second.get('container_cpu_pct{container=web,image=nginx:1.27}')).toBe(50);
    expect(second.get('container_read_bps{container=web,image=nginx:1.27}')).toBe(3000);
    expect(second.get('container_write_bps{container=web,image=nginx:1.27}')).toBe(1000);
    expect(second.get('container_net_rx_bps{container=web,image=nginx:1.27}')).toBe(2000);
    expect(second.get('container_net_tx_bps{container=web,image=nginx:1.27}')).toBe(500);
    expect(second.get('container_cpu_pct{container=db,image=postgres:16}')).toBe(200);
    expect(second.has('container_net_rx_bps{container=db,image=postgres:16}')).toBe(false); // the host's network namespace
    // Podman's container is not in this API's list: named by its short id, no image, CPU only.
    expect(second.get('container_cpu_pct{container=cccccccccccc}')).toBe(0);
    expect([...second.keys()].filter((k) => k.includes('cccccccccccc'))).toEqual(['container_cpu_pct{container=cccccccccccc}']);

    // db starts restarting: running goes to 0 at the next refresh; a container never seen running is not reported.
    list.current = [
      { Id: A, Names: ['/web'], Image: 'nginx:1.27', State: 'running' },
      { Id: B, Names: ['/db'], Image: 'postgres:16', State: 'restarting' },
      { Id: 'd'.repeat(64), Names: ['/old'], Image: 'busybox', State: 'exited' },
    ];
    const third = await collectUntil(c, 20_000, (v) => v.get('container_running{container=db,image=postgres:16}') === 0);
    expect(third.get('container_running{container=web,image=nginx:1.27}')).toBe(1);
    expect([...third.keys()].some((k) => k.includes('old'))).toBe(false);
    expect(api.paths).toHaveLength(2); // the API is asked once a refresh, not once a sample
  });

  it('without an API names containers by short id; without cgroup v2 it throws, which the sampler logs once', async () => {
    const m = fakeMachine();
    const c = createContainersCollector({ cgroupRoot: m.cgroup, procRoot: m.proc, sockets: [] });
    const values = await collect(c, 0);
    expect(values.get(`container_mem_bytes{container=${A.slice(0, 12)}}`)).toBe(104_857_600);

    const logs: string[] = [];
    const noCgroup = createContainersCollector({ cgroupRoot: join(tempDir(), 'no-cgroup'), sockets: [] });
    const base = createLinuxSampler({ procRoot: join(m.proc, '../../no-proc'), sysRoot: m.sys, log: () => undefined, primeAtStart: false });
    const sampler = withSeriesCollectors(base, [noCgroup], { warn: (msg) => logs.push(`warn: ${msg}`), info: (msg) => logs.push(msg) }, () => 0);
    for (let i = 0; i < 3; i++) expect((await sampler.read({ processes: false })).series).toBeUndefined();
    sampler.close?.();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^agent: containers unavailable \(ENOENT.*cgroup\.controllers/); // at info: a fact about the machine
  });

  it('sums io.stat over devices', () => {
    expect(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=5 dios=1\n8:16 rbytes=1 wbytes=2\n')).toEqual({ read: 11, write: 22 });
    expect(parseIoStat('')).toEqual({ read: 0, write: 0 });
  });
});

describe("the Pi's signals", () => {
  it('reads each core clock from cpufreq and the Wi-Fi link from /proc/net/wireless', async () => {
    const m = fakeMachine();
    const values = await collect(createPiSignalsCollector({ procRoot: m.proc, sysRoot: m.sys }), 0);
    expect(Object.fromEntries(values)).toEqual({
      'cpu_freq_hz{cpu=0}': 1.5e9,
      'cpu_freq_hz{cpu=1}': 1.5e9,
      'cpu_freq_hz{cpu=2}': 6e8,
      'wifi_link_quality{interface=wlan0}': 52,
      'wifi_signal_dbm{interface=wlan0}': -58,
    });
  });

  it('has no values, and no error, on a machine without cpufreq or wireless', async () => {
    const empty = tempDir();
    expect((await collect(createPiSignalsCollector({ procRoot: empty, sysRoot: empty }), 0)).size).toBe(0);
    expect(parseWireless('h1\nh2\n')).toEqual([]);
  });
});

describe('storage health', () => {
  it('reports eMMC wear, read-only filesystems and S.M.A.R.T. from a fake smartctl', async () => {
    const m = fakeMachine();
    const smartctl = fakeCommand(
      'fake-smartctl',
      `case "$*" in
  --scan) echo '/dev/sda -d sat # /dev/sda [SAT], ATA device'; echo '/dev/nvme0 -d nvme # /dev/nvme0, NVMe device' ;;
  *sda) echo '{"smart_status":{"passed":false},"temperature":{"current":41},"power_on_time":{"hours":1000}}'; exit 8 ;;
  *nvme0) echo '{"smart_status":{"passed":true},"temperature":{"current":38},"nvme_smart_health_information_log":{"percentage_used":3}}' ;;
esac`,
    );
    const c = createStorageHealthCollector({ procRoot: m.proc, sysRoot: m.sys, smartctl });
    const values = await collectUntil(c, 0, (v) => v.has('smart_healthy{device=nvme0}'));
    expect(Object.fromEntries(values)).toEqual({
      'storage_wear_pct{device=mmcblk0}': 30, // life_time 0x02 0x03: the worse, type B, up to 30 % used
      'storage_pre_eol{device=mmcblk0}': 1,
      'fs_readonly{mountpoint=/}': 0,
      'fs_readonly{mountpoint=/boot/firmware}': 1,
      'fs_readonly{mountpoint=/mnt/usb disk}': 1,
      'smart_healthy{device=sda}': 0, // exit status 8 (failing) still carries the JSON
      'smart_temp_c{device=sda}': 41,
      'smart_power_on_seconds{device=sda}': 3_600_000,
      'smart_healthy{device=nvme0}': 1,
      'smart_temp_c{device=nvme0}': 38,
      'smart_used_pct{device=nvme0}': 3,
    });
    expect(parseHexLevels('0x0b 0x01\n')).toEqual([11, 1]);
  });

  it('stays quiet where smartctl is not installed', async () => {
    const m = fakeMachine();
    const logs: string[] = [];
    const c = createStorageHealthCollector({
      procRoot: m.proc,
      sysRoot: m.sys,
      smartctl: join(tempDir(), 'no-smartctl'),
      log: (msg) => logs.push(msg),
      smartEveryMs: 0,
    });
    for (let t = 0; t < 5; t++) {
      const values = await collect(c, t);
      expect([...values.keys()].some((k) => k.startsWith('smart_'))).toBe(false);
      await sleep(20);
    }
    expect(logs).toEqual([]);
  });
});

describe('services', () => {
  it('reports failed units (and their recovery) and the named units from a fake systemctl', async () => {
    const dir = tempDir();
    const listing = join(dir, 'units');
    const runs = join(dir, 'runs');
    writeFileSync(
      listing,
      '● foo.service loaded failed failed Foo daemon\nbar.timer loaded failed failed Bar\nnginx.service loaded active running A web server\nssh.service loaded inactive dead OpenSSH\n',
    );
    const systemctl = fakeCommand('fake-systemctl', `echo "$*" >> "${runs}"; cat "${listing}"`);
    const c = createServicesCollector({ command: systemctl, units: ['nginx', 'ssh', 'getty@tty1.service'], everyMs: 1000 });
    const first = await collectUntil(c, 0, (v) => v.size > 0);
    expect(Object.fromEntries(first)).toEqual({
      'service_failed{unit=foo.service}': 1,
      'service_failed{unit=bar.timer}': 1,
      'service_active{unit=nginx}': 1,
      'service_active{unit=ssh}': 0,
      'service_active{unit=getty@tty1.service}': 0, // not loaded: not running
    });
    writeFileSync(listing, 'bar.timer loaded failed failed Bar\nfoo.service loaded active running Foo daemon\n');
    const second = await collectUntil(c, 2000, (v) => v.get('service_failed{unit=foo.service}') === 0);
    expect(second.get('service_failed{unit=bar.timer}')).toBe(1);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual([
      'list-units --all --plain --no-legend --no-pager',
      'list-units --all --plain --no-legend --no-pager',
    ]);
    expect(parseUnitStates('')).toEqual(new Map());
  });

  it('logs one line where systemd does not answer (systemctl exits non-zero), and has no values', async () => {
    const logs: string[] = [];
    const systemctl = fakeCommand('fake-systemctl', 'echo "System has not been booted with systemd as init system (PID 1). Can\'t operate." >&2; exit 1');
    const c = createServicesCollector({ command: systemctl, everyMs: 0, log: (msg) => logs.push(msg) });
    for (let t = 0; t < 5; t++) {
      expect((await collect(c, t)).size).toBe(0);
      await sleep(20);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/list-units exited 1: System has not been booted with systemd/);
  });

  it('logs one line where systemctl is missing', async () => {
    const logs: string[] = [];
    const c = createServicesCollector({ command: join(tempDir(), 'no-systemctl'), everyMs: 0, log: (msg) => logs.push(msg) });
    for (let t = 0; t < 5; t++) {
      expect((await collect(c, t)).size).toBe(0);
      await sleep(20);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/services: .*no-systemctl failed \(.*ENOENT/);
  });
});

describe('clock', () => {
  it('reads synchronisation from timedatectl and the offset from chronyc (fakes)', async () => {
    const timedatectl = fakeCommand('fake-timedatectl', 'echo yes');
    const chronyc = fakeCommand(
      'fake-chronyc',
      "echo 'A9FEA97B,169.254.169.123,4,1733490000.1,0.000250000,-0.000010,0.000020,-1.5,0.01,0.05,0.0001,0.0002,64.0,Normal'",
    );
    const values = await collectUntil(createClockCollector({ timedatectl, chronyc }), 0, (v) => v.size > 0);
    expect(Object.fromEntries(values)).toEqual({ 'clock_synchronized{}': 1, 'clock_offset_seconds{}': -0.00025 });
    expect(parseChronyTracking('A,b,1,2,0.5,0,0,0,0,0,0,0,0,Not synchronised')).toEqual({ offsetSeconds: -0.5, synchronized: 0 });
  });

  it('without either command: no values and one line', async () => {
    const logs: string[] = [];
    const c = createClockCollector({ timedatectl: join(tempDir(), 'none'), chronyc: join(tempDir(), 'none'), everyMs: 0, log: (msg) => logs.push(msg) });
    for (let t = 0; t < 4; t++) {
      expect((await collect(c, t)).size).toBe(0);
      await sleep(20);
    }
    expect(logs).toHaveLength(1);
  });
});

describe('Prometheus text', () => {
  it.each([
    ['plain', 'up 1\n', { 'up{}': 1 }],
    ['labels, escapes and a timestamp', 'x{a="1",b="q\\"t\\\\n\\n"} 2.5 1700000000000\n', { 'x{a=1,b=q"t\\n\n}': 2.5 }],
    ['HELP, TYPE and comments skipped', '# HELP x help\n# TYPE x gauge\n# just a note\nx 3\n', { 'x{}': 3 }],
    ['exponents and signs', 'a 1e3\nb -0.5\nc +2\n', { 'a{}': 1000, 'b{}': -0.5, 'c{}': 2 }],
    ['NaN and Inf left out quietly', 'a NaN\nb +Inf\nc -Inf\nd 1\n', { 'd{}': 1 }],
    ['trailing comma in labels', 'x{a="1",} 1\n', { 'x{a=1}': 1 }],
    ['CRLF lines', 'x 1\r\ny 2\r\n', { 'x{}': 1, 'y{}': 2 }],
  ])('%s', (_, text, expected) => {
    const parsed = parsePromText(text);
    expect(parsed.problem).toBeUndefined();
    expect(Object.fromEntries(byKey(parsed.values))).toEqual(expected);
  });

  it.each([
    ['no value', 'x\n', 1, /expected a value/],
    ['a word for a value', 'x abc\n', 1, /value "abc" is not a number/],
    ['a colon in the name', 'ok 1\nnode:rate 2\n', 2, /metric name "node:rate" is not allowed/],
    ['a reserved name', '__x 1\n', 1, /not allowed/],
    ['an unclosed label value', 'x{a="1} 1\n', 1, /no closing quote/],
    ['a label twice', 'x{a="1",a="2"} 1\n', 1, /given twice/],
    ['too many labels', `x{${Array.from({ length: 9 }, (_, i) => `l${i}="v"`).join(',')}} 1\n`, 1, /more than 8 labels/],
    ['three words', 'x 1 2 3\n', 1, /at most a timestamp/],
  ])('refuses %s, naming the line', (_, text, line, message) => {
    const parsed = parsePromText(text);
    expect(parsed.problem?.line).toBe(line);
    expect(parsed.problem?.message).toMatch(message);
  });
});

describe('textfile and exec collectors', () => {
  it('reads *.prom files, again only when one changes; a bad line costs that line and one log line naming file and line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'backup.prom'), '# TYPE backup_age_seconds gauge\nbackup_age_seconds{job="nightly"} 3600\n');
    writeFileSync(join(dir, 'bad.prom'), 'good 1\n\nbad line here\nworse\n');
    writeFileSync(join(dir, 'notes.txt'), 'ignored 1\n');
    const logs: string[] = [];
    const c = createTextfileCollector(dir, (msg) => logs.push(msg));
    for (let t = 0; t < 3; t++) {
      expect(Object.fromEntries(await collect(c, t))).toEqual({ 'backup_age_seconds{job=nightly}': 3600, 'good{}': 1 });
    }
    expect(logs).toEqual([
      `textfile ${join(dir, 'bad.prom')} line 3: value "line" is not a number (and 1 more bad line); that line is skipped, the rest is read`,
    ]);
    writeFileSync(join(dir, 'backup.prom'), 'backup_age_seconds{job="nightly"} 60\nextra 7\n');
    expect(Object.fromEntries(await collect(c, 4))).toEqual({ 'backup_age_seconds{job=nightly}': 60, 'extra{}': 7, 'good{}': 1 });
    expect(logs).toHaveLength(1);
  });

  it('runs each command at its interval, never two runs of one at once, and kills one past its time', async () => {
    const dir = tempDir();
    const runs = join(dir, 'runs');
    const logs: string[] = [];
    const withInterval = execList(
      `queue=echo run >> ${runs}; sleep 2; echo 'queue_depth{queue="mail"} 4'@3s,slow=sleep 5; echo never 1@1s,broken=echo 'oops{'@1s`,
    );
    if ('problem' in withInterval) throw new Error(withInterval.problem);
    expect(withInterval.map((s) => [s.name, s.everyMs])).toEqual([
      ['queue', 3000],
      ['slow', 1000],
      ['broken', 1000],
    ]);
    const c = createExecCollector(withInterval, (msg) => logs.push(msg));
    cleanup(() => c.close?.());
    // The clock runs ahead 5 s a call, so each command is due at every call: a run still going is not started again.
    let t = 0;
    for (let i = 0; i < 8; i++) {
      await collect(c, (t += 5000));
      await sleep(10);
    }
    // Eight calls, each finding queue due, within its first 2 s run (long, so a loaded machine still
    // makes the eight calls inside it): one run only.
    await waitFor('the first run', () => existsSync(runs));
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    let values = new Map<string, number>();
    for (let i = 0; i < 400 && !values.has('queue_depth{queue=mail}'); i++, await sleep(20)) values = await collect(c, (t += 5000));
    expect(values.get('queue_depth{queue=mail}')).toBe(4);
    await sleep(1300); // slow's 1 s deadline passes
    await collect(c, (t += 5000));
    expect(logs.some((l) => /^exec slow \(sleep 5; echo never 1\): no answer in 1000 ms \(killed\)/.test(l))).toBe(true);
    expect(logs.some((l) => /^exec broken \(echo 'oops\{'\): output line 1: /.test(l))).toBe(true);
    const before = logs.length;
    await sleep(1300);
    await collect(c, (t += 5000));
    expect(logs).toHaveLength(before); // the same problems again: no new lines
  }, 20_000);
});

describe('options and the cap', () => {
  it.each([
    ['a=echo 1@10s', [['a', 'echo 1', 10_000]]],
    [
      'a=echo 1,2@10s,b=date +%s@1m',
      [
        ['a', 'echo 1,2', 10_000],
        ['b', 'date +%s', 60_000],
      ],
    ],
    ['a=x=1 y@5s', [['a', 'x=1 y', 5000]]],
  ])('--exec %s', (raw, expected) => {
    const specs = execList(raw);
    expect('problem' in specs ? specs : specs.map((s) => [s.name, s.command, s.everyMs])).toEqual(expected);
  });

  it.each([
    ['echo 1', /is not NAME=COMMAND@INTERVAL/],
    ['a=echo 1@100ms', /a: interval "100ms" must be a duration between 1s and 1d/],
    ['a b=echo@1s', /a name is 1–64/],
    ['a=echo 1@1s,a=echo 2@1s', /a: named twice/],
    ['a=@1s', /a: no command/],
  ])('refuses --exec %s', (raw, message) => {
    const specs = execList(raw);
    expect('problem' in specs && specs.problem).toMatch(message);
  });

  it('checks --services and --disable-collectors', () => {
    expect(serviceList('nginx, ssh,nginx,getty@tty1.service')).toEqual(['nginx', 'ssh', 'getty@tty1.service']);
    expect(serviceList('ok,bad unit')).toEqual({ problem: 'not a systemd unit name: "bad unit"' });
    expect(collectorList('containers,smart')).toEqual(['containers', 'smart']);
    expect(collectorList('docker')).toEqual({ problem: 'unknown collector "docker"; the optional ones are containers, services, storage, smart, pi, clock' });
  });

  it('keeps at most 500 values, and within the byte budget', () => {
    const many: LabelledValue[] = Array.from({ length: 600 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, value: i }));
    expect(capSeries(many)).toBe(100);
    expect(many).toHaveLength(MAX_SAMPLE_SERIES);
    const long: LabelledValue[] = Array.from({ length: 200 }, (_, i) => ({ name: 'm', labels: { a: 'x'.repeat(250), b: String(i) }, value: i }));
    capSeries(long);
    expect(long.length).toBeLessThan(200);
    expect(long.length).toBeGreaterThan(100);
  });

  it('leaves out a value the wire would refuse rather than lose the sample', () => {
    const series: LabelledValue[] = [
      { name: 'fs_readonly', labels: { mountpoint: `/${'x'.repeat(300)}` }, value: 0 },
      { name: 'fs_readonly', labels: { mountpoint: '/' }, value: 0 },
      { name: 'bad-name', labels: {}, value: 1 },
    ];
    expect(capSeries(series)).toBe(2);
    expect(series).toEqual([{ name: 'fs_readonly', labels: { mountpoint: '/' }, value: 0 }]);
  });

  it('logs the cap once, however often it bites', async () => {
    const logs: string[] = [];
    const flood: Collector = {
      name: 'flood',
      collect: (out) => void (out.series = Array.from({ length: 700 }, (_, i) => ({ name: 'f', labels: { i: String(i) }, value: i }))),
    };
    const base = createLinuxSampler({ procRoot: join(tempDir(), 'none'), sysRoot: join(tempDir(), 'none'), log: () => undefined, primeAtStart: false });
    const s = withSeriesCollectors(base, [flood], { warn: (msg) => logs.push(msg), info: (msg) => logs.push(`info: ${msg}`) }, () => 0);
    for (let i = 0; i < 3; i++) expect((await s.read({ processes: false })).series).toHaveLength(500);
    expect(logs).toEqual([
      'agent: 200 labelled values left out of a sample: at most 500 (and 32768 bytes of them) are sent, the first ones in collector order, and none with a label value over 256 characters',
    ]);
  });
});
