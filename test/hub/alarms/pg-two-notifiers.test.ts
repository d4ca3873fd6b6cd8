// Two coordinators reading one notification queue on a real PostgreSQL server, as during a
// handover's overlap: each queued notification is claimed by one of them and delivered once, to
// a real HTTP receiver (node:http on port 0); a failed one is retried and shown until delivered.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier, testMessage } from '../../../hub/alarms/notifier.ts';
import { openPgDriver, type PgDriver } from '../../../hub/storage/driver.ts';
import { usePostgres } from '../../helpers/use-postgres.ts';
import { cleanup, quietLog, runCleanups, tempDir, waitFor } from '../../helpers/parts.ts';

const server = usePostgres();
afterEach(runCleanups);

/** A receiver that answers the first `failFirst` calls with 503, then 204; keeps each call's body. */
async function receiver(failFirst = 0): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  let calls = 0;
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls++;
      if (calls <= failFirst) return void res.writeHead(503).end();
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`, bodies };
}

/** Two hubs' drivers on one fresh database (each its own pool) and a notifier on each. */
async function twoCoordinators(baseBackoffMs = 50): Promise<{ drivers: PgDriver[]; notifiers: Notifier[] }> {
  const url = await server.createDatabase();
  const drivers: PgDriver[] = [];
  for (let i = 0; i < 2; i++) drivers.push(await openPgDriver(url, { sqlitePath: join(tempDir(), 'remonitor.db'), log: quietLog }));
  const notifiers = drivers.map(
    (d) => new Notifier({ store: d.alarmState, log: quietLog, pollMs: 5, baseBackoffMs, maxBackoffMs: 2 * baseBackoffMs, concurrency: 8 }),
  );
  cleanup(async () => {
    for (const n of notifiers) await n.stop();
    for (const d of drivers) await d.close();
  });
  return { drivers, notifiers };
}

const message = (n: number) => JSON.stringify({ ...testMessage(null), title: `message ${n}` });
const titles = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as { title: string }).title);

describe('two coordinators on one PostgreSQL notification queue', () => {
  it('deliver each queued notification once between them', async () => {
    const hook = await receiver();
    const { drivers, notifiers } = await twoCoordinators();
    const count = 60;
    for (let n = 0; n < count; n++) await drivers[n % 2]!.alarmState.enqueue('webhook', hook.url, message(n), Date.now());
    for (const n of notifiers) n.start();
    await waitFor('all delivered', async () => (await drivers[0]!.alarmState.pendingDeliveries()) === 0, 30_000, 20);
    await Promise.all(notifiers.map((n) => n.settled()));
    expect(titles(hook.bodies).sort()).toEqual(Array.from({ length: count }, (_, n) => `message ${n}`).sort());
    expect(notifiers[0]!.stats.delivered + notifiers[1]!.stats.delivered).toBe(count);
  }, 60_000);

  it('claim disjoint sets when they read at the same moment', async () => {
    const { drivers } = await twoCoordinators();
    const [a, b] = drivers.map((d) => d.alarmState);
    for (let n = 0; n < 200; n++) await a!.enqueue('webhook', 'https://a.example/hook', message(n), 1000);
    const claimed: number[] = [];
    // Both read in small batches, at once, until nothing is left; every claim settles as delivered.
    const drain = async (store: typeof a) => {
      for (;;) {
        const rows = await store!.claimDue(2000, 7, 60_000);
        if (rows.length === 0) return;
        claimed.push(...rows.map((r) => r.id));
        await Promise.all(rows.map((r) => store!.markDelivered(r.id, 2000)));
      }
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    expect(claimed).toHaveLength(200);
    expect(new Set(claimed).size).toBe(200);
    expect(await b!.pendingDeliveries()).toBe(0);
  }, 60_000);

  it('retry a failed delivery, shown in the queue until it succeeds', async () => {
    const hook = await receiver(2);
    const { drivers, notifiers } = await twoCoordinators(300);
    await drivers[0]!.alarmState.enqueue('webhook', hook.url, message(1), Date.now());
    notifiers[0]!.start();
    await waitFor('a failure shown', async () => (await drivers[1]!.alarmState.queueStatus())[0]?.last_error ?? null, 15_000, 10);
    notifiers[1]!.start();
    await waitFor('delivered', async () => (await drivers[1]!.alarmState.pendingDeliveries()) === 0, 15_000, 20);
    await Promise.all(notifiers.map((n) => n.settled()));
    expect(titles(hook.bodies)).toEqual(['message 1']);
    expect(notifiers[0]!.stats.failedAttempts + notifiers[1]!.stats.failedAttempts).toBe(2);
  }, 60_000);
});
