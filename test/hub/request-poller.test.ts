// The requests the CLI leaves in auth.db for the hub (auth/request-queue.ts) and the hub's poller
// (hub/nodes/request-poller.ts), on a real auth.db in a temporary directory: requests outlive a restart,
// a second request of a node merges with the first, a bad row is dropped and logged, a failed one is
// tried again, and the poll neither keeps the process alive nor goes on after stop.
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb, type AuthDb } from '../../auth/auth-db.ts';
import { EnrolmentTags } from '../../auth/enrolment-tags.ts';
import { NodeRemovals } from '../../auth/node-removals.ts';
import type { QueuedRequest } from '../../auth/request-queue.ts';
import { RequestPoller } from '../../hub/nodes/request-poller.ts';
import { cleanup, runCleanups, tempDir, waitFor } from '../helpers/parts.ts';
import { recordingLog } from '../helpers/recording-log.ts';

afterEach(runCleanups);

function open(dataDir: string): AuthDb {
  const db = openAuthDb(dataDir);
  cleanup(() => {
    if (db.open) db.close();
  });
  return db;
}

const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('requests queued in auth.db', () => {
  it('are carried out at the start after a restart, oldest first, and then forgotten', async () => {
    const dataDir = tempDir();
    let clock = 1_000;
    const cli = open(dataDir);
    new EnrolmentTags(cli, () => clock++).request('pi-b', { tags: ['ci'] });
    new EnrolmentTags(cli, () => clock++).request('pi-a', { tags: ['garage', 'site-b'] });
    cli.close();

    const db = open(dataDir);
    const queue = new EnrolmentTags(db);
    const applied: QueuedRequest<{ tags: string[] }>[] = [];
    const { log, lines } = recordingLog();
    const poller = new RequestPoller({ queue, what: 'enrolment tags', apply: async (r) => void applied.push(r), log });
    await poller.start();
    cleanup(() => poller.stop());
    expect(applied).toEqual([
      { node: 'pi-b', tags: ['ci'], requestedMs: 1_000 },
      { node: 'pi-a', tags: ['garage', 'site-b'], requestedMs: 1_001 },
    ]);
    expect(queue.pending(() => undefined)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('merge a second request of a node with the first, and keep one made again while the first was carried out', () => {
    const db = open(tempDir());
    let clock = 1_000;
    const removals = new NodeRemovals(db, () => clock++);
    removals.request('pi-1', { purge: true });
    removals.request('pi-1', { purge: false });
    const [first] = removals.pending(() => undefined);
    expect(first).toEqual({ node: 'pi-1', purge: true, requestedMs: 1_001 }); // purged if either asked for it
    removals.request('pi-1', { purge: false });
    removals.done(first!);
    expect(removals.pending(() => undefined)).toEqual([{ node: 'pi-1', purge: true, requestedMs: 1_002 }]);
  });

  it('drop a bad row (auth.db edited by hand) and say which and why, and carry out the good ones', async () => {
    const db = open(tempDir());
    const queue = new EnrolmentTags(db);
    const insert = db.prepare('INSERT INTO enrolment_tags (node, tags, requested_ms) VALUES (?, ?, ?)');
    insert.run('pi-json', 'not json', 1);
    insert.run('pi-upper', '["Garage"]', 2);
    insert.run('pi/slash', '["ci"]', 3);
    insert.run('pi-good', '["ci"]', 4);
    const removals = new NodeRemovals(db);
    db.prepare('INSERT INTO node_removals (node, purge, requested_ms) VALUES (?, ?, ?)').run('pi-odd', 7, 5);

    const { log, lines } = recordingLog();
    const applied: string[] = [];
    const tagPoller = new RequestPoller({ queue, what: 'enrolment tags', apply: async (r) => void applied.push(r.node), log });
    const removalPoller = new RequestPoller({ queue: removals, what: 'node removals', apply: async (r) => void applied.push(r.node), log });
    await tagPoller.start();
    await removalPoller.start();
    cleanup(() => tagPoller.stop());
    cleanup(() => removalPoller.stop());
    expect(applied).toEqual(['pi-good']);
    expect(lines.map((l) => l.msg)).toEqual([
      ...Array(3).fill('a bad row of the enrolment tags asked for was dropped'),
      'a bad row of the node removals asked for was dropped',
    ]);
    expect(lines.map((l) => [l.node, l.err])).toEqual([
      ['pi-json', expect.stringMatching(/^enrolment_tags: .*JSON/)],
      ['pi-upper', expect.stringMatching(/^enrolment_tags: tag "Garage" must be lowercase/)],
      ['pi/slash', 'enrolment_tags: node name "pi/slash" contains "/"; allowed are A-Z a-z 0-9 . _ -'],
      ['pi-odd', 'node_removals: purge must be 0 or 1, got 7'],
    ]);
    expect(db.prepare('SELECT count(*) AS n FROM enrolment_tags').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM node_removals').get()).toEqual({ n: 0 });
  });

  it('try a failed request again at a later poll, and keep it until then', async () => {
    const db = open(tempDir());
    const queue = new NodeRemovals(db);
    queue.request('pi-1', { purge: false });
    const { log, lines } = recordingLog();
    let attempts = 0;
    const poller = new RequestPoller({
      queue,
      what: 'node removals',
      apply: async () => {
        if (++attempts === 1) throw new Error('database is locked');
      },
      log,
      pollMs: 20,
    });
    await poller.start();
    cleanup(() => poller.stop());
    expect(attempts).toBe(1);
    expect(lines).toMatchObject([{ msg: 'could not carry out one of the node removals asked for; will retry', node: 'pi-1', err: 'database is locked' }]);
    expect(queue.pending(() => undefined)).toHaveLength(1);
    await waitFor('the second attempt', () => queue.pending(() => undefined).length === 0);
    expect(attempts).toBe(2);
  });

  it('poll without keeping the process alive, and stop taking requests at stop, after the one under way', async () => {
    const db = open(tempDir());
    let clock = 1;
    const queue = new NodeRemovals(db, () => clock++);
    const applied: string[] = [];
    let release = () => {};
    const { log } = recordingLog();
    const poller = new RequestPoller({
      queue,
      what: 'node removals',
      apply: async (r) => {
        applied.push(r.node);
        if (r.node === 'pi-slow') await new Promise<void>((resolve) => (release = resolve));
      },
      log,
      pollMs: 20,
    });
    const before = refTimers();
    await poller.start();
    cleanup(() => poller.stop());
    expect(refTimers()).toBe(before); // the poll's timer is unref'd

    queue.request('pi-slow', { purge: false });
    queue.request('pi-next', { purge: false });
    await waitFor('the slow request under way', () => applied.length === 1);
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // waits for the request under way
    release();
    await stopping;
    expect(applied).toEqual(['pi-slow']);
    expect(queue.pending(() => undefined).map((r) => r.node)).toEqual(['pi-next']);
    // Stopped: a new request stays where it is for the next start (several poll periods pass).
    queue.request('pi-later', { purge: false });
    await new Promise((r) => setTimeout(r, 200));
    expect(applied).toEqual(['pi-slow']);
    expect(queue.pending(() => undefined).map((r) => r.node)).toEqual(['pi-next', 'pi-later']);
  });
});
