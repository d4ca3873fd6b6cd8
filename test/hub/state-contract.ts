// The state contract: what every storage driver (hub/storage/driver.ts) must keep of the alarms,
// written once against hub/storage/alarm-state.ts. Each backend's test file calls it with a way to
// open a driver on fresh storage and to open it again on the same storage (a restarted hub, or
// the next coordinator of a group). Every call is awaited, so it serves SQLite and PostgreSQL alike.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../hub/storage/driver.ts';
import type { AlarmTransition } from '../../shared/alarm-types.ts';

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

    it('queues notifications: due ones first, failures retried later with their error, delivered ones gone', async () => {
      const s = driver.alarmState;
      await s.enqueue('webhook', 'https://a.example/hook', '{"n":1}', 1000);
      await s.enqueue('ntfy', 'ntfy://b.example/topic', '{"n":2}', 2000);
      await s.enqueue('webhook', 'https://a.example/hook', '{"n":3}', 3000);
      expect(await s.pendingDeliveries()).toBe(3);
      const due = await s.due(2500, 10);
      expect(due.map((d) => d.body)).toEqual(['{"n":1}', '{"n":2}']);
      expect(due[0]).toMatchObject({ kind: 'webhook', url: 'https://a.example/hook', attempts: 0, created_ms: 1000, next_attempt_ms: 1000, last_error: null });
      expect((await s.due(2500, 1)).map((d) => d.body)).toEqual(['{"n":1}']);
      await s.markFailed(due[0]!.id, 60_000, 'ECONNREFUSED');
      await s.markDelivered(due[1]!.id, 2600);
      expect((await s.due(5000, 10)).map((d) => d.body)).toEqual(['{"n":3}']);
      expect(await s.queueStatus()).toEqual([
        { url: 'https://a.example/hook', kind: 'webhook', pending: 2, failing: 1, oldest_pending_ms: 1000, last_error: 'ECONNREFUSED' },
      ]);
      // The next coordinator delivers what this one left.
      const next = await reopen();
      expect((await next.due(60_000, 10)).map((d) => [d.body, d.attempts])).toEqual([
        ['{"n":3}', 0],
        ['{"n":1}', 1],
      ]);
      expect(await next.pendingDeliveries()).toBe(2);
      await s.prune(3000, 5000);
      expect(await s.pendingDeliveries()).toBe(2);
    });
  });
}
