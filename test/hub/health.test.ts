// /healthz tells the truth, with real parts: a broker that goes away and comes back, a database
// page overwritten under a running hub (every write then fails), another process holding the
// write lock while samples wait, and a damaged file at start (refused by HubService and by
// `remonitor up`, or reported when the check outlasts the start). Each problem is logged when it
// starts and when it ends, not at every failed attempt, and shows as the hub's alarm.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { HubService, type HubOptions } from '../../cli/hub-service.ts';
import type { HealthReport } from '../../hub/hub-health.ts';
import { openDatabase } from '../../shared/sqlite-open.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, topics } from '../../protocol/index.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import { fakeAgentClient, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, CLI, getJson, quietLog, runCleanups, spawnProcess, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { recordingLog, type LogLine } from '../helpers/recording-log.ts';

afterEach(runCleanups);

const PAGE = 4096;

async function startHubWith(brokerUrl: string, dataDir: string, options: Partial<HubOptions>): Promise<{ hub: HubService; api: string }> {
  const hub = new HubService({ brokerUrl, dataDir, httpPort: 0, log: quietLog, ...options });
  cleanup(() => hub.stop());
  await hub.start();
  return { hub, api: `http://127.0.0.1:${hub.httpPort}` };
}

const healthz = (api: string) => getJson<HealthReport>(`${api}/healthz`);

/** Overwrites page `page` (1-based, SQLite's numbering) of the file with bytes that are no B-tree page. */
function overwritePage(path: string, page: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(PAGE, 0xa5), 0, PAGE, (page - 1) * PAGE);
  closeSync(fd);
}

/** The first page of a table, from the schema. */
function rootPage(path: string, table: string): number {
  const db = openDatabase(path, { readonly: true });
  const { rootpage } = db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').get(table) as { rootpage: number };
  db.close();
  return rootpage;
}

/** A closed database of the hub's schema holding `samples` samples of one node (so the samples table spans many pages). */
function databaseWithSamples(dataDir: string, samples: number): string {
  const path = join(dataDir, 'remonitor.db');
  const store = openSqliteStore(path);
  const batch = Array.from({ length: samples }, (_, i) => sampleAt(i + 1, Date.now() - 3_600_000 + i * 1000));
  store.insertBatch(batch.map((sample) => ({ node: 'old', sample, raw: encodeSample(sample) })));
  store.close();
  return path;
}

const linesAbout = (lines: LogLine[], what: string) => lines.filter((l) => l['what'] === what).map((l) => l.msg);

describe('/healthz', () => {
  it('says 503 with the broker while the hub cannot reach it, raises the hub alarm, and clears both when it is back', async () => {
    const first = new EmbeddedBroker({ port: 0, log: quietLog });
    await first.start();
    const port = first.port;
    const { log, lines } = recordingLog();
    const { api } = await startHubWith(`mqtt://127.0.0.1:${port}`, tempDir(), { log, healthLimits: { brokerDownMs: 500 } });
    expect(await healthz(api)).toEqual({ status: 200, body: { ok: true } });

    await first.stop();
    const down = await waitFor('a 503', async () => {
      const res = await healthz(api);
      return res.status === 503 ? res.body : null;
    });
    expect(down).toEqual({
      ok: false,
      problems: [
        {
          what: 'broker',
          detail: expect.stringMatching(new RegExp(`^the hub has not reached the broker at mqtt://127\\.0\\.0\\.1:${port} for \\d+ s$`)),
          since_ms: expect.any(Number),
        },
      ],
    });
    const alarms = await waitFor('the hub alarm', async () => (await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms.find((a) => a.node === '(hub)'));
    expect(alarms).toMatchObject({ node: '(hub)', rule_id: 'hub_health', subject: 'broker', state: 'red' });

    const again = new EmbeddedBroker({ port, log: quietLog });
    await again.start();
    cleanup(() => again.stop());
    await waitFor('{"ok":true} again', async () => (await healthz(api)).status === 200);
    // The alarm follows the problems as looked at once a second; /healthz looks when asked.
    await waitFor('the hub alarm cleared', async () => (await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms.every((a) => a.node !== '(hub)'));
    const history = (await getJson<AlarmsResponse>(`${api}/api/alarms?history=1h`)).body.history!.filter((t) => t.node === '(hub)');
    expect(history.map((t) => `${t.subject}: ${t.from} → ${t.to}`)).toEqual(['broker: red → ok', 'broker: ok → red']);
    expect(linesAbout(lines, 'broker')).toEqual(['hub unhealthy: broker (logged again once a minute while it lasts)', 'hub healthy again: broker']);
  });

  it('says 503 naming the file and how to recover when every write fails, and logs it once, not at each attempt', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const path = databaseWithSamples(dataDir, 0);
    const { log, lines } = recordingLog();
    const { hub, api } = await startHubWith(url, dataDir, { log });
    // Under the running hub (whose writer opens its connection at the first write): the samples'
    // first page, which every insert goes through, is overwritten.
    overwritePage(path, rootPage(path, 'samples'));
    const client = await fakeAgentClient(url);
    let seq = 0;
    const publishing = setInterval(
      () => void client.publishAsync(topics.metrics('pi-1'), Buffer.from(encodeSample(sampleAt(++seq, Date.now()))), { qos: 1 }),
      100,
    );
    cleanup(() => clearInterval(publishing));

    const failing = await waitFor('a 503', async () => {
      const res = await healthz(api);
      return res.status === 503 ? res.body : null;
    });
    expect(failing.problems![0]).toMatchObject({ what: 'store' });
    // Several seconds of failed attempts (one every 300 ms): each is one more in the count, none one more log line.
    await waitFor(
      'ten failed writes',
      async () => Number(/^(\d+) writes of samples failed/.exec((await healthz(api)).body.problems?.[0]?.detail ?? '')?.[1]) >= 10,
    );
    const { status, body } = await healthz(api);
    expect(status).toBe(503);
    const detail = body.problems!.find((p) => p.what === 'store')!.detail;
    expect(detail).toMatch(/^\d+ writes of samples failed since \S+; the last: /);
    expect(detail).toContain(`the database ${path} is damaged (database disk image is malformed). Stop remonitor and move the file aside`);
    expect(detail).toContain(`sqlite3 ${path}.damaged ".recover" | sqlite3 ${path}`);
    expect(linesAbout(lines, 'store')).toEqual(['hub unhealthy: store (logged again once a minute while it lasts)']);
    expect(lines.filter((l) => /could not store a batch/.test(l.msg))).toEqual([]);
    expect((await getJson<AlarmsResponse>(`${api}/api/alarms`)).body.alarms[0]).toMatchObject({ node: '(hub)', subject: 'store', state: 'red' });
    expect(hub.ingest.stats.stored).toBe(0);
  });

  it('says 503 while ingest is behind (another process holds the write lock), and nothing is lost', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const { hub, api } = await startHubWith(url, dataDir, { healthLimits: { ingestLagMs: 1000 } });
    const client = await fakeAgentClient(url);
    await client.publishAsync(topics.metrics('pi-2'), Buffer.from(encodeSample(sampleAt(1, Date.now()))), { qos: 1 });
    await waitFor('the first sample stored', () => hub.ingest.stats.stored === 1);
    // The session service prunes the process history 1 s after the start, on the main thread: a
    // lock held then would hold up the whole loop (the API too) rather than only ingest's thread.
    await new Promise((r) => setTimeout(r, 1500));

    // A separate process (as `remonitor user add` would be) holds the write lock for 4 s: less than
    // the 5 s the writer waits, so its writes wait rather than fail, and samples pile up meanwhile.
    const holder = spawnProcess(process.execPath, [
      '-e',
      `
      const db = require('better-sqlite3')(${JSON.stringify(join(dataDir, 'remonitor.db'))});
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN IMMEDIATE');
      console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); console.log('released'); }, 4000);
    `,
    ]);
    await holder.waitForLine(/locked/);
    let seq = 1;
    const publishing = setInterval(
      () => void client.publishAsync(topics.metrics('pi-2'), Buffer.from(encodeSample(sampleAt(++seq, Date.now()))), { qos: 1 }),
      100,
    );
    cleanup(() => clearInterval(publishing));
    const behind = await waitFor(
      'a 503',
      async () => {
        const res = await healthz(api);
        return res.status === 503 ? res.body : null;
      },
      4000,
      50,
    );
    expect(behind.problems).toEqual([
      { what: 'ingest', detail: expect.stringMatching(/^\d+ samples wait to be stored and none was stored for \d+ s$/), since_ms: expect.any(Number) },
    ]);
    await holder.waitForLine(/released/);
    await waitFor('{"ok":true} again', async () => (await healthz(api)).status === 200);
    clearInterval(publishing);
    await waitFor('every sample stored', () => hub.ingest.stats.stored === seq);
    // The hub alarm's transitions waited for the store to be well again, then went to the history.
    const history = await waitFor('the hub alarm in the history', async () => {
      const { body } = await getJson<AlarmsResponse>(`${api}/api/alarms?history=1h`);
      return body.history!.some((t) => t.node === '(hub)' && t.to === 'ok') ? body.history! : null;
    });
    expect(history.filter((t) => t.node === '(hub)').map((t) => `${t.subject}: ${t.from} → ${t.to}`)).toEqual(['ingest: red → ok', 'ingest: ok → red']);
  });
});

describe('a damaged database at start', () => {
  it('is refused by the hub and by `remonitor up`, naming the file and the way to recover', async () => {
    const dataDir = tempDir();
    const path = databaseWithSamples(dataDir, 2000);
    // A page in the middle of the samples: the schema, the nodes and the other tables read fine, so the file opens.
    overwritePage(path, rootPage(path, 'samples') + 20);
    const { url } = await startBroker();
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog });
    cleanup(() => hub.stop());
    const refused = await hub.start().then(
      () => null,
      (err: Error) => err.message,
    );
    expect(refused).toMatch(new RegExp(`^the database ${path} is damaged \\(PRAGMA quick_check: .+\\)\\. Stop remonitor and move the file aside`));
    expect(refused).toContain(`sqlite3 ${path}.damaged ".recover" | sqlite3 ${path}`);

    const up = spawnProcess(process.execPath, [
      CLI,
      'up',
      '--data-dir',
      dataDir,
      '--insecure',
      '--no-agent',
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--log-level',
      'warn',
    ]);
    const { code } = await up.exited;
    expect(code, up.output()).toBe(1);
    expect(up.output()).toContain(`remonitor up: the database ${path} is damaged (PRAGMA quick_check: `);
    console.log(`remonitor up on a damaged database: ${up.output().trim().split('\n').at(-1)}`);
  });

  it('shows on /healthz when the check ends after the start (a large file)', async () => {
    const dataDir = tempDir();
    const path = databaseWithSamples(dataDir, 2000);
    overwritePage(path, rootPage(path, 'samples') + 20);
    const { url } = await startBroker();
    const { api } = await startHubWith(url, dataDir, { integrityWaitMs: 0 });
    const damaged = await waitFor('a 503', async () => {
      const res = await healthz(api);
      return res.status === 503 ? res.body : null;
    });
    expect(damaged.problems).toEqual([
      { what: 'store', detail: expect.stringContaining(`the database ${path} is damaged (PRAGMA quick_check: `), since_ms: expect.any(Number) },
    ]);
  });
});
