// The state contract: what every storage driver (hub/storage/driver.ts) must do with ingest's batches
// (its writer and the acks it gives) and keep of the alarms and the sessions, written once against
// hub/storage/sample-writer.ts, alarm-state.ts and session-state.ts. Each backend's test file calls it with a way to
// open a driver on fresh storage and to open it again on the same storage (a restarted hub, or
// the next coordinator of a group). Every call is awaited, so it serves SQLite and PostgreSQL alike.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../hub/storage/driver.ts';
import type { AlarmTransition } from '../../shared/alarm-types.ts';
import type { ProcsSample, WatchedProcess } from '../../protocol/procs.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { PackedSamples } from '../../hub/storage/packed-samples.ts';

/** Opens a driver on new storage; `again` opens another on the same storage. */
export type OpenDriver = () => Promise<{ driver: StorageDriver; again: () => Promise<StorageDriver> }>;

const transition = (over: Partial<AlarmTransition>): AlarmTransition => ({
  ts_ms: 1000,
  node: 'pi-1',
  rule_id: 'cpu',
  subject: '',
  metric: 'cpu_pct',
  from: 'ok',
  to: 'red',
  value: 95.5,
  threshold: 90,
  tt_ms: null,
  ...over,
});

const silence = { node: 'pi-1', node_pattern: null, tag: null, rule_id: 'cpu', subject: null, from_ms: 0, until_ms: 10_000, reason: 'work', created_by: null };

export function alarmStateContract(backend: string, open: OpenDriver): void {
  describe(`alarm state contract: ${backend}`, () => {
    let driver: StorageDriver;
    let again: () => Promise<StorageDriver>;
    const opened: StorageDriver[] = [];
    beforeEach(async () => {
      ({ driver, again } = await open());
      opened.push(driver);
    });
    afterEach(async () => {
      for (const d of opened.splice(0)) await d.close();
    });
    const reopen = async () => {
      const d = await again();
      opened.push(d);
      return d.alarmState;
    };

    it('keeps transitions, newest first, from a time and up to a limit', async () => {
      const s = driver.alarmState;
      const a = await s.addTransition(transition({ ts_ms: 1000 }));
      const b = await s.addTransition(transition({ ts_ms: 2000, from: 'red', to: 'ok', value: null, threshold: null, tt_ms: 1234.6 }));
      const c = await s.addTransition(transition({ ts_ms: 3000, node: 'pi-2', subject: '/data' }));
      expect(a).toBeLessThan(b);
      expect(b).toBeLessThan(c);
      const all = await s.transitionsSince(0);
      expect(all.map((t) => t.id)).toEqual([c, b, a]);
      expect(all[1]).toEqual({ id: b, ...transition({ ts_ms: 2000, from: 'red', to: 'ok', value: null, threshold: null, tt_ms: 1235 }) });
      expect(all[0]).toMatchObject({ node: 'pi-2', subject: '/data', value: 95.5, threshold: 90 });
      expect((await s.transitionsSince(2000)).map((t) => t.id)).toEqual([c, b]);
      expect((await s.transitionsSince(0, 1)).map((t) => t.id)).toEqual([c]);
    });

    it("gives each alarm's last state, and a new driver on the same storage gives the same", async () => {
      const s = driver.alarmState;
      await s.addTransition(transition({ ts_ms: 1000, to: 'amber' }));
      await s.addTransition(transition({ ts_ms: 2000, from: 'amber', to: 'red' }));
      await s.addTransition(transition({ ts_ms: 1500, rule_id: 'mem', subject: 'container=db', to: 'offline' }));
      const expected = new Map([
        ['pi-1\u0000cpu\u0000', { state: 'red', ts_ms: 2000 }],
        ['pi-1\u0000mem\u0000container=db', { state: 'offline', ts_ms: 1500 }],
      ]);
      expect(await s.lastStates()).toEqual(expected);
      expect(await (await reopen()).lastStates()).toEqual(expected);
    });

    it('keeps one acknowledgement per alarm, replaced by the next and cleared', async () => {
      const s = driver.alarmState;
      await s.ack('pi-1', 'cpu', '', 'amber', 1000, 'ops');
      await s.ack('pi-1', 'cpu', '', 'red', 2000, null);
      await s.ack('pi-2', 'fs', '/data', 'red', 2000, 'ops');
      const sorted = async (st: StorageDriver['alarmState']) => (await st.acks()).sort((x, y) => x.node.localeCompare(y.node));
      expect(await sorted(s)).toEqual([
        { node: 'pi-1', rule_id: 'cpu', subject: '', state: 'red' },
        { node: 'pi-2', rule_id: 'fs', subject: '/data', state: 'red' },
      ]);
      await s.clearAck('pi-1', 'cpu', '');
      expect(await sorted(await reopen())).toEqual([{ node: 'pi-2', rule_id: 'fs', subject: '/data', state: 'red' }]);
    });

    it('keeps silences with their scope until they end, soonest end first', async () => {
      const s = driver.alarmState;
      const long = await s.addSilence({ ...silence, until_ms: 20_000 });
      const scoped = await s.addSilence({ ...silence, node: null, node_pattern: 'pi-*', tag: 'lab', rule_id: null, created_by: 'alice' });
      await s.addSilence({ ...silence, until_ms: 500 });
      expect(await s.silences(1000)).toEqual([
        { ...silence, id: scoped, node: null, node_pattern: 'pi-*', tag: 'lab', rule_id: null, created_by: 'alice' },
        { ...silence, id: long, until_ms: 20_000 },
      ]);
      expect(await s.deleteSilence(scoped)).toBe(true);
      expect(await s.deleteSilence(scoped)).toBe(false);
      expect((await (await reopen()).silences(1000)).map((x) => x.id)).toEqual([long]);
      expect(await s.silences(20_000)).toEqual([]);
    });

    it('queues notifications: due ones claimed first, failures retried later with their error, delivered ones gone', async () => {
      const s = driver.alarmState;
      await s.enqueue('webhook', 'https://a.example/hook', '{"n":1}', 1000);
      await s.enqueue('ntfy', 'ntfy://b.example/topic', '{"n":2}', 2000);
      await s.enqueue('webhook', 'https://a.example/hook', '{"n":3}', 3000);
      expect(await s.pendingDeliveries()).toBe(3);
      const due = await s.claimDue(2500, 10, 30_000);
      expect(due.map((d) => d.body)).toEqual(['{"n":1}', '{"n":2}']);
      expect(due[0]).toMatchObject({ kind: 'webhook', url: 'https://a.example/hook', attempts: 0, created_ms: 1000, next_attempt_ms: 1000, last_error: null });
      // Claimed: no other reader takes them while the lease lasts.
      expect(await (await reopen()).claimDue(2500, 10, 30_000)).toEqual([]);
      await s.markFailed(due[0]!.id, 60_000, 'ECONNREFUSED');
      await s.markDelivered(due[1]!.id, 2600);
      expect((await s.claimDue(5000, 10, 30_000)).map((d) => d.body)).toEqual(['{"n":3}']);
      expect(await s.queueStatus()).toEqual([
        { url: 'https://a.example/hook', kind: 'webhook', pending: 2, failing: 1, oldest_pending_ms: 1000, last_error: 'ECONNREFUSED' },
      ]);
      // The next coordinator delivers what this one left: the failure when it is due again, and
      // the claimed one that was never settled (its claimer died) once its lease is over.
      const next = await reopen();
      expect((await next.claimDue(34_000, 10, 30_000)).map((d) => d.body)).toEqual([]);
      expect((await next.claimDue(60_000, 10, 30_000)).map((d) => [d.body, d.attempts, d.next_attempt_ms])).toEqual([
        ['{"n":3}', 0, 35_000],
        ['{"n":1}', 1, 60_000],
      ]);
      expect(await next.pendingDeliveries()).toBe(2);
      await s.prune(3000, 5000);
      expect(await s.pendingDeliveries()).toBe(2);
    });
  });
}

export const proc = (pid: number, rss: number, over: Partial<WatchedProcess> = {}): WatchedProcess => ({
  pid,
  name: 'app',
  rss_bytes: rss,
  vsize_bytes: 2 * rss,
  cpu_pct: 5,
  threads: 2,
  rss_anon_bytes: rss / 2,
  rss_file_bytes: rss / 2,
  swap_bytes: 0,
  exited: false,
  ...over,
});

export const watchSample = (session: string, seq: number, ts: number, procs: WatchedProcess[], over: Partial<ProcsSample> = {}): ProcsSample => ({
  v: 1,
  session,
  seq,
  ts_ms: ts,
  target: 'name:app',
  interval_ms: 1000,
  procs,
  ...over,
});

export function sessionStateContract(backend: string, open: OpenDriver): void {
  describe(`session state contract: ${backend}`, () => {
    let driver: StorageDriver;
    let again: () => Promise<StorageDriver>;
    const opened: StorageDriver[] = [];
    beforeEach(async () => {
      ({ driver, again } = await open());
      opened.push(driver);
    });
    afterEach(async () => {
      for (const d of opened.splice(0)) await d.close();
    });
    const reopen = async () => {
      const d = await again();
      opened.push(d);
      return d.sessionState();
    };
    const base = { node: 'pi-1', target: 'name:app', interval_ms: 1000, source: 'hub' as const };

    it('creates a session once, lists it newest first, and a new driver on the same storage lists the same', async () => {
      const s = driver.sessionState();
      expect(await s.create({ ...base, id: 's-1', started_ms: 1000 })).toBe(true);
      expect(await s.create({ ...base, id: 's-1', started_ms: 5000 })).toBe(false);
      expect(await s.create({ ...base, id: 's-2', node: 'pi-2', started_ms: 2000 })).toBe(true);
      const listed = await s.list();
      expect(listed.map((x) => [x.id, x.node, x.state, x.started_ms, x.sample_count])).toEqual([
        ['s-2', 'pi-2', 'running', 2000, 0],
        ['s-1', 'pi-1', 'running', 1000, 0],
      ]);
      expect(await (await reopen()).list()).toEqual(listed);
      expect((await s.runningOn('pi-1')).map((x) => x.id)).toEqual(['s-1']);
      await s.setState('s-1', 'stopped', 3000);
      expect(await s.get('s-1')).toMatchObject({ state: 'stopped', stopped_ms: 3000, error: null });
      expect(await s.runningOn('pi-1')).toEqual([]);
      await s.setState('s-2', 'failed', 2500, 'no such process');
      expect(await s.get('s-2')).toMatchObject({ state: 'failed', error: 'no such process' });
      await s.remove('s-2');
      expect(await s.get('s-2')).toBeNull();
      expect(await s.get('never')).toBeNull();
    });

    it('stores watch samples once each, makes the session of one first heard of, and gives the detail with its exits', async () => {
      const s = driver.sessionState();
      expect(await s.addSample('pi-1', watchSample('record-1', 0, 1000, [proc(10, 1000), proc(11, 500)]))).toBe(false);
      expect(await s.addSample('pi-1', watchSample('record-1', 0, 1000, [proc(10, 1000), proc(11, 500)]))).toBe(false);
      expect(await s.addSample('pi-1', watchSample('record-1', 1, 2000, [proc(10, 1200), proc(11, 600, { exited: true })]))).toBe(false);
      const d = (await s.detail('record-1'))!;
      expect(d).toMatchObject({ id: 'record-1', node: 'pi-1', source: 'record', state: 'running', started_ms: 1000, last_sample_ms: 2000, sample_count: 2 });
      expect(d.samples.map((x) => [x.ts_ms, x.rss_bytes, x.procs])).toEqual([
        [1000, 1500, 2],
        [2000, 1200, 1], // the exited process's last row is not in the totals
      ]);
      expect(d.exits).toEqual([{ ts_ms: 2000, pid: 11, name: 'app', last_rss_bytes: 600 }]);
      expect(d.processes).toEqual([
        { pid: 10, name: 'app' },
        { pid: 11, name: 'app' },
      ]);
      expect((await s.detail('record-1', 1000))!.samples.map((x) => x.ts_ms)).toEqual([2000]);
      expect((await s.get('record-1'))!.analysis).toMatchObject({ verdict: expect.any(String) });
      // The agent's last sample ends it.
      await s.addSample('pi-1', watchSample('record-1', 2, 3000, [], { ended: true }));
      expect(await (await reopen()).get('record-1')).toMatchObject({ state: 'ended', stopped_ms: 3000, sample_count: 3 });
    });

    it('ends a running session once its processes have been gone for its grace', async () => {
      const s = driver.sessionState();
      await s.create({ ...base, id: 's-gone', started_ms: 0 });
      expect(await s.addSample('pi-1', watchSample('s-gone', 0, 1000, [proc(10, 1000)]))).toBe(false);
      let ended = false;
      let ts = 1000;
      for (let seq = 1; seq < 200 && !ended; seq++) {
        ts += 1000;
        ended = await s.addSample('pi-1', watchSample('s-gone', seq, ts, []));
      }
      expect(ended).toBe(true);
      expect(await s.get('s-gone')).toMatchObject({ state: 'ended', stopped_ms: ts });
      expect(await s.addSample('pi-1', watchSample('s-gone', 500, ts + 1000, []))).toBe(false);
    });

    it('keeps the per-process history: averages per node and name, and each point of one process', async () => {
      const s = driver.sessionState();
      const usage = (pid: number, name: string, cpu: number, rss: number) => ({ pid, name, cpu_pct: cpu, rss_bytes: rss, threads: 1 });
      const now = Date.now();
      s.addTopLists('pi-1', now - 2000, [usage(1, 'web', 10, 100)], [usage(1, 'web', 10, 100), usage(2, 'db', 1, 900)]);
      s.addTopLists('pi-1', now - 1000, [usage(1, 'web', 20, 300)], []);
      s.addTopLists('pi-2', now - 1000, [usage(7, 'web', 50, 50)], []);
      await s.flushProcesses(now);
      const averages = await s.processAverages(now - 5000, now, ['pi-1']);
      expect(averages).toEqual([
        { node: 'pi-1', name: 'web', cpu_pct: 15, rss_bytes: 200, max_rss_bytes: 300, samples: 2, pids: 1, last_ms: now - 1000 },
        { node: 'pi-1', name: 'db', cpu_pct: 1, rss_bytes: 900, max_rss_bytes: 900, samples: 1, pids: 1, last_ms: now - 2000 },
      ]);
      expect((await (await reopen()).processAverages(now - 5000, now, null)).map((a) => a.node)).toEqual(['pi-1', 'pi-1', 'pi-2']);
      expect(await s.processHistory('pi-1', 'web', now - 5000, now)).toEqual([
        { ts_ms: now - 2000, pid: 1, cpu_pct: 10, rss_bytes: 100 },
        { ts_ms: now - 1000, pid: 1, cpu_pct: 20, rss_bytes: 300 },
      ]);
    });
  });
}

export function writerContract(backend: string, open: OpenDriver): void {
  describe(`writer contract: ${backend}`, () => {
    let driver: StorageDriver;
    beforeEach(async () => {
      ({ driver } = await open());
    });
    afterEach(async () => {
      await driver.close();
    });
    const t0 = Date.now() - 60_000;
    const batch = (node: string, seqs: number[]) =>
      PackedSamples.pack(
        seqs.map((seq) => {
          const sample: Sample = { v: 1, boot: 'boot-1', seq, ts_ms: t0 + seq * 1000, cpu_pct: seq };
          return { node, sample, raw: encodeSample(sample) };
        }),
      );

    it('stores batches the store then serves, acking contiguous seqs only and replays as duplicates', async () => {
      const w = driver.writer;
      expect(await w.write(batch('n', [0, 1, 2, 5, 6]), [])).toEqual({ inserted: 5, duplicates: 0, acks: [{ node: 'n', boot: 'boot-1', next: 3 }] });
      expect((await w.write(batch('n', [3, 4]), [])).acks).toEqual([{ node: 'n', boot: 'boot-1', next: 7 }]);
      expect(await w.write(batch('n', [1, 2]), [])).toMatchObject({ inserted: 0, duplicates: 2 });
      const series = await driver.store.querySeries({ node: 'n', metrics: ['cpu_pct'], fromMs: t0 - 1000, toMs: t0 + 10_000, maxPoints: 100 });
      expect(series!.data[1]).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect((await driver.store.listNodes()).map((n) => n.name)).toEqual(['n']);
    });

    it('acks past what a spool lost', async () => {
      await driver.writer.write(batch('full', [0, 1, 2, 8]), []);
      expect(await driver.writer.spoolReport('full', { spool_boot: 'boot-1', spool_first_seq: 10, spool_dropped: 4 })).toEqual({
        node: 'full',
        boot: 'boot-1',
        next: 10,
      });
      expect((await driver.writer.write(batch('full', [10]), [])).acks).toEqual([{ node: 'full', boot: 'boot-1', next: 11 }]);
    });
  });
}
