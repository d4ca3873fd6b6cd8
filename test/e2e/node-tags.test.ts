// Node tags end to end on a real hub (SQLite, then PostgreSQL): an agent started with --tags (and
// one with REMONITOR_TAGS) sends them in its birth record and /api/nodes lists them; tags given at
// enrolment (the API the "Add a node" dialog calls, and `remonitor node add --tags` while the hub
// runs) and by an admin's PUT are added to the agent's; a viewer's PUT is refused; and an alarm
// rule with `tags` fires for the tagged nodes only, judged by the real engine on real samples.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { HubService } from '../../cli/hub-service.ts';
import { encodeInfo, topics, type NodeInfo } from '../../protocol/index.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import type { NodeSummary, NodesResponse } from '../../shared/api-types.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';
import { fakeAgentClient, publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { cleanup, CLI, quietLog, runCleanups, spawnProcess, startBroker, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const info = (tags?: string[]): NodeInfo => ({
  v: 1,
  agent_version: '0.1.0',
  hostname: 'h',
  os: 'Debian',
  kernel: '6.6',
  arch: 'arm64',
  cpu_model: 'A72',
  cpu_cores: 4,
  mem_total_bytes: 1,
  disks: [],
  boot_time_ms: 1,
  interval_ms: 1000,
  ...(tags ? { tags } : {}),
});

/** A hub with logins and enrolment, as `remonitor up` runs it, and a bearer token per role. */
async function securedHub(brokerUrl: string, dataDir: string, extra: { storage?: string } = {}) {
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  const users = new WebUsers(db);
  const hub = await HubService.open({
    brokerUrl,
    dataDir,
    httpPort: 0,
    log: quietLog,
    webAuth: createWebAuth({ users }),
    nodeCredentials: new MqttCredentials(db),
    ...extra,
    // Hot over 50 % CPU, on nodes tagged ci only.
    alarms: {
      tickMs: 100,
      seedRules: () => [{ id: 'ci-hot', metric: 'cpu_pct', threshold: 50, for: '0s', window: '1s', trend_window: '2s', horizon: '0', tags: ['ci'] }],
    },
  });
  await hub.start();
  cleanup(() => hub.stop());
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const as = (role: 'viewer' | 'admin') => {
    const token = users.addApiToken(`script-${role}`, role).token;
    return async (method: string, path: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
  };
  const admin = as('admin');
  const viewer = as('viewer');
  const nodeOf = async (name: string): Promise<NodeSummary | undefined> =>
    ((await viewer('GET', '/api/nodes')).body as NodesResponse).nodes.find((n) => n.name === name);
  return { hub, admin, viewer, nodeOf };
}

describe('node tags on a SQLite hub', () => {
  it('come from the agent, enrolment and the UI, and target alarm rules', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const { admin, viewer, nodeOf } = await securedHub(url, dataDir);

    // (a) The agent: --tags, and REMONITOR_TAGS, from the real binary into its birth record.
    const agentArgs = (node: string) => [CLI, 'agent', '--broker', url, '--node', node, '--interval', '500ms', '--spool-dir', tempDir(), '--log-level', 'warn'];
    spawnProcess(process.execPath, [...agentArgs('flag-pi'), '--tags', 'ci,room:kitchen']);
    spawnProcess(process.execPath, agentArgs('env-pi'), { env: { ...process.env, REMONITOR_TAGS: 'site-b' } });
    const flagged = await waitFor('flag-pi tags', async () => (await nodeOf('flag-pi'))?.info && nodeOf('flag-pi'), 30_000);
    expect(flagged.tags).toEqual(['ci', 'room:kitchen']);
    expect(flagged.info?.tags).toEqual(['ci', 'room:kitchen']);
    expect(flagged.hub_tags).toEqual([]);
    expect((await waitFor('env-pi tags', async () => (await nodeOf('env-pi'))?.info && nodeOf('env-pi'), 30_000)).tags).toEqual(['site-b']);

    // A bad tag stops the agent at its start, naming the flag and the tag.
    const bad = spawnProcess(process.execPath, [...agentArgs('bad-pi'), '--tags', 'ok,Not OK']);
    await bad.waitForLine(/--tags: tag "Not OK" must be lowercase/);

    // (c) The UI's PUT: admins add hub tags beside the agent's; viewers may not; bad input is named.
    const put = await admin('PUT', '/api/nodes/flag-pi/tags', { tags: ['lab', 'ci'] });
    expect(put).toEqual({ status: 200, body: { node: 'flag-pi', tags: ['ci', 'lab', 'room:kitchen'], hub_tags: ['ci', 'lab'] } });
    expect((await nodeOf('flag-pi'))?.tags).toEqual(['ci', 'lab', 'room:kitchen']);
    expect((await viewer('PUT', '/api/nodes/flag-pi/tags', { tags: [] })).status).toBe(403);
    const refused = await admin('PUT', '/api/nodes/flag-pi/tags', { tags: ['ok', 'Bad Tag'] });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/^tags: tag "Bad Tag" must be lowercase/);
    expect((await admin('PUT', '/api/nodes/nobody-here/tags', { tags: ['x'] })).status).toBe(404);
    expect((await admin('PUT', '/api/nodes/flag-pi/tags', { tags: [] })).body.tags).toEqual(['ci', 'room:kitchen']); // the agent's stay

    // (b) Enrolment: the dialog's API, and the CLI writing to auth.db while the hub runs.
    const enrolled = await admin('POST', '/api/enrolments', { node: 'garage-pi', tags: ['site-b', 'garage'] });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.tags).toEqual(['garage', 'site-b']);
    expect((await nodeOf('garage-pi'))?.tags).toEqual(['garage', 'site-b']);
    const badEnrol = await admin('POST', '/api/enrolments', { node: 'other-pi', tags: ['UPPER'] });
    expect([badEnrol.status, badEnrol.body.error]).toEqual([
      400,
      'tags: tag "UPPER" must be lowercase a-z 0-9 and _ . : - inside, starting with a letter or digit',
    ]);
    const add = spawnProcess(process.execPath, [CLI, 'node', 'add', 'cli-pi', '--tags', 'ci,attic', '--data-dir', dataDir]);
    await add.waitForLine(/enrolled node "cli-pi" with tags ci, attic/);
    expect((await waitFor('cli-pi tags', () => nodeOf('cli-pi'), 15_000)).tags).toEqual(['attic', 'ci']);
    const wrongCli = spawnProcess(process.execPath, [CLI, 'node', 'revoke', 'cli-pi', '--tags', 'x', '--data-dir', dataDir]);
    await wrongCli.waitForLine(/--tags goes with add only/);

    // Alarm rules: `ci-hot` targets tag ci. Every node below runs hot; only the ci-tagged ones alarm:
    // flag-pi (the agent's tag), cli-pi (enrolment), hub-ci (a PUT), and agent-ci (a birth record
    // published after the hub started, which the engine follows). Not env-pi, garage-pi or plain.
    const fake = await fakeAgentClient(url);
    await fake.publishAsync(topics.info('agent-ci'), Buffer.from(encodeInfo(info(['ci']))), { qos: 1, retain: true });
    await fake.publishAsync(topics.info('plain'), Buffer.from(encodeInfo(info())), { qos: 1, retain: true });
    await publishNode(fake, 'hub-ci', [sampleAt(0, Date.now() - 1000, { cpu_pct: 90 })]);
    await waitFor('hub-ci stored', () => nodeOf('hub-ci'));
    expect((await admin('PUT', '/api/nodes/hub-ci/tags', { tags: ['ci'] })).status).toBe(200);
    await waitFor('agent-ci info stored', async () => (await nodeOf('agent-ci'))?.tags.includes('ci'));
    const hot = ['flag-pi', 'env-pi', 'cli-pi', 'garage-pi', 'hub-ci', 'agent-ci', 'plain'];
    const alarmed = async () =>
      new Set(((await viewer('GET', '/api/alarms')).body as AlarmsResponse).alarms.filter((a) => a.rule_id === 'ci-hot').map((a) => a.node));
    const expected = ['agent-ci', 'cli-pi', 'flag-pi', 'hub-ci'];
    // Samples a second apart, live (now), until the four alarms are up; bounded in count and time.
    for (let seq = 1; seq <= 40 && (await alarmed()).size < expected.length; seq++) {
      const now = Date.now();
      for (const node of hot) await publishNode(fake, node, [sampleAt(seq, now, { cpu_pct: 90 })]);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...(await alarmed())].sort()).toEqual(expected);

    // Its tag taken away, hub-ci leaves the rule: its alarm goes without waiting for a sample.
    await admin('PUT', '/api/nodes/hub-ci/tags', { tags: [] });
    await waitFor('hub-ci alarm dropped', async () => !(await alarmed()).has('hub-ci'));
  }, 120_000);
});

describe('node tags on a PostgreSQL hub', () => {
  let pg: PostgresServer;
  afterAll(async () => pg?.stop());

  it('are stored and listed the same way', async () => {
    pg = await startPostgres();
    const { url } = await startBroker();
    const dataDir = tempDir();
    const configFile = join(dataDir, 'agent.json');
    writeFileSync(configFile, JSON.stringify({ tags: ['ci', 'room:attic'] })); // a config file may give a list
    const { admin, nodeOf } = await securedHub(url, dataDir, { storage: await pg.createDatabase() });
    spawnProcess(process.execPath, [
      CLI,
      'agent',
      '--broker',
      url,
      '--node',
      'pg-pi',
      '--interval',
      '500ms',
      '--spool-dir',
      tempDir(),
      '--log-level',
      'warn',
      '--config',
      configFile,
    ]);
    expect((await waitFor('pg-pi tags', async () => (await nodeOf('pg-pi'))?.info && nodeOf('pg-pi'), 30_000)).tags).toEqual(['ci', 'room:attic']);
    expect((await admin('PUT', '/api/nodes/pg-pi/tags', { tags: ['lab'] })).body.tags).toEqual(['ci', 'lab', 'room:attic']);
    expect((await admin('POST', '/api/enrolments', { node: 'pg-new', tags: ['site-b'] })).status).toBe(201);
    const listed = await nodeOf('pg-new');
    expect([listed?.tags, listed?.hub_tags, listed?.status]).toEqual([['site-b'], ['site-b'], 'unknown']);
    expect((await nodeOf('pg-pi'))?.hub_tags).toEqual(['lab']);
  }, 120_000);
});
