// A hub that kept its alarm and session state in the SQLite file of its data directory (as hubs on
// PostgreSQL did before that state moved into the database), started on a real PostgreSQL server:
// the file's state is copied into the database once, logged, and never twice (a second start,
// a second hub with a copy of the file, two hubs at once).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE, HubService } from '../../cli/hub-service.ts';
import { openPgDriver, openSqliteDriver, type StorageDriver } from '../../hub/storage/driver.ts';
import { copyLocalStateToPg } from '../../hub/storage/postgres/pg-local-state-copy.ts';
import { usePostgres } from '../helpers/use-postgres.ts';
import { cleanup, quietLog, runCleanups, tempDir } from '../helpers/parts.ts';
import { recordingLog } from '../helpers/recording-log.ts';
import { proc, watchSample } from './state-contract.ts';

const server = usePostgres();
afterEach(runCleanups);

const NOW = Date.now();
const transition = (ts_ms: number, from: 'ok' | 'amber' | 'red', to: 'ok' | 'amber' | 'red', subject = '/') => ({
  ts_ms,
  node: 'pi-1',
  rule_id: 'disk',
  subject,
  metric: 'fs_pct',
  from,
  to,
  value: 81.5,
  threshold: 80,
  tt_ms: to === 'ok' ? null : 3_600_000.4,
});

/** A data directory whose SQLite file holds alarm and session state, written as older hubs wrote it. */
async function olderDataDir(): Promise<string> {
  const dataDir = tempDir();
  const old = openSqliteDriver({ sqlitePath: join(dataDir, DB_FILE), log: quietLog });
  try {
    const a = old.alarmState;
    await a.addTransition(transition(NOW - 5000, 'ok', 'amber'));
    await a.addTransition(transition(NOW - 4000, 'amber', 'red'));
    await a.addTransition(transition(NOW - 3000, 'ok', 'amber', '/data'));
    await a.ack('pi-1', 'disk', '/', 'red', NOW - 3500, 'alice');
    await a.addSilence({
      node: null,
      node_pattern: 'pi-*',
      tag: 'lab',
      rule_id: 'disk',
      subject: null,
      from_ms: NOW - 1000,
      until_ms: NOW + 3_600_000,
      reason: 'moving racks',
      created_by: 'alice',
    });
    await a.addSilence({
      node: 'pi-1',
      node_pattern: null,
      tag: null,
      rule_id: null,
      subject: null,
      from_ms: NOW - 9000,
      until_ms: NOW - 8000,
      reason: 'over',
      created_by: null,
    });
    await a.enqueue('webhook', 'https://a.example/hook', '{"n":1}', NOW - 2000);
    await a.enqueue('webhook', 'https://a.example/hook', '{"n":2}', NOW - 1000);
    await a.markDelivered((await a.claimDue(NOW - 1500, 1, 60_000))[0]!.id, NOW - 1400);
    const s = old.sessionState();
    await s.create({ id: 's-1', node: 'pi-1', target: 'name:app', interval_ms: 1000, source: 'hub', started_ms: NOW - 6000 });
    await s.addSample('pi-1', watchSample('s-1', 0, NOW - 5000, [proc(10, 1000), proc(11, 2000)]));
    await s.addSample('pi-1', watchSample('s-1', 1, NOW - 4000, [proc(10, 1500), proc(11, 2000, { exited: true })]));
    await s.setState('s-1', 'stopped', NOW - 3900);
    await s.create({ id: 's-2', node: 'pi-2', target: 'pid:42', interval_ms: 2000, source: 'agent', started_ms: NOW - 2000 });
  } finally {
    await old.close();
  }
  return dataDir;
}

/** What the alarm engine, the notifier and the pages read of a driver's state (ids aside, which each database gives). */
async function stateOf(d: StorageDriver) {
  const a = d.alarmState;
  const s = d.sessionState();
  const sessions = await s.list();
  return {
    transitions: (await a.transitionsSince(0)).map(({ id: _, ...t }) => t),
    lastStates: await a.lastStates(),
    acks: await a.acks(),
    silences: (await a.silences(NOW)).map(({ id: _, ...x }) => x),
    queue: await a.queueStatus(),
    sessions,
    details: await Promise.all(sessions.map((x) => s.detail(x.id))),
  };
}

const ALL = { transitions: 3, acks: 1, silences: 1, deliveries: 1, sessions: 2, samples: 2 };
const NONE = { transitions: 0, acks: 0, silences: 0, deliveries: 0, sessions: 0, samples: 0 };

describe("copying an older hub's local alarm and session state into PostgreSQL", () => {
  it('copies it at the first start, logs what it copied, and nothing at the next start', async () => {
    const dataDir = await olderDataDir();
    const oldFile = openSqliteDriver({ sqlitePath: join(dataDir, DB_FILE), log: quietLog });
    const expected = await stateOf(oldFile);
    await oldFile.close();
    expect(expected.transitions).toHaveLength(3);
    expect(expected.details[1]?.samples).toHaveLength(2);

    const storage = await server.createDatabase();
    for (const start of [1, 2]) {
      const { log, lines } = recordingLog();
      const hub = await HubService.open({ brokerUrl: 'mqtt://127.0.0.1:1', dataDir, storage, httpPort: 0, log, alarms: false });
      try {
        const copiedLines = lines.filter((l) => l.msg.startsWith('copied the alarm and session state'));
        if (start === 1) expect(copiedLines).toEqual([expect.objectContaining({ from: join(dataDir, DB_FILE), ...ALL })]);
        else expect(copiedLines).toEqual([]);
        expect(await stateOf(hub.storage)).toEqual(expected);
      } finally {
        await hub.storage.close();
      }
    }
  }, 60_000);

  it('copies nothing twice: a second hub with a copy of the file, or two hubs at once', async () => {
    const file = join(await olderDataDir(), DB_FILE);
    const copies = [1, 2, 3].map(() => {
      const path = join(tempDir(), DB_FILE);
      copyFileSync(file, path);
      return path;
    });
    const storage = await server.createDatabase();
    const pg = await openPgDriver(storage, { sqlitePath: join(tempDir(), DB_FILE), log: quietLog });
    cleanup(() => pg.close());
    // This group's hubs already moved the alarm on: the copied older transitions do not make it amber again.
    await pg.alarmState.addTransition(transition(NOW - 100, 'red', 'ok'));

    expect(await copyLocalStateToPg(pg.store.pool, file, quietLog, NOW)).toEqual(ALL);
    expect(await copyLocalStateToPg(pg.store.pool, file, quietLog, NOW)).toBeNull();
    expect(await copyLocalStateToPg(pg.store.pool, copies[0]!, quietLog, NOW)).toEqual(NONE);
    const [one, two] = await Promise.all(copies.slice(1).map((path) => copyLocalStateToPg(pg.store.pool, path, quietLog, NOW)));
    expect([one, two]).toEqual([NONE, NONE]);

    expect(await pg.alarmState.transitionsSince(0)).toHaveLength(4);
    expect((await pg.alarmState.lastStates()).get('pi-1\u0000disk\u0000/')).toEqual({ state: 'ok', ts_ms: NOW - 100 });
    expect(await pg.alarmState.pendingDeliveries()).toBe(1);
    expect((await pg.sessionState().list()).map((s) => [s.id, s.sample_count])).toEqual([
      ['s-2', 0],
      ['s-1', 2],
    ]);
  }, 60_000);

  it('copies into an empty database what two hubs starting at once hold, once', async () => {
    const file = join(await olderDataDir(), DB_FILE);
    const twin = join(tempDir(), DB_FILE);
    copyFileSync(file, twin);
    const storage = await server.createDatabase();
    const pg = await openPgDriver(storage, { sqlitePath: join(tempDir(), DB_FILE), log: quietLog });
    cleanup(() => pg.close());
    const copied = await Promise.all([file, twin].map((path) => copyLocalStateToPg(pg.store.pool, path, quietLog, NOW)));
    expect(copied).toContainEqual(ALL);
    expect(copied).toContainEqual(NONE);
    expect(await pg.alarmState.transitionsSince(0)).toHaveLength(3);
    expect((await pg.sessionState().detail('s-1'))?.samples).toHaveLength(2);
  }, 60_000);
});
