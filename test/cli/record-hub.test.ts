// `remonitor record --broker` as a CI job runs it: the single-file bundle fetched from a hub that
// has logins and MQTT credentials (as the README's CI snippets do), run with plain `node` from a
// directory without node_modules, against the real embedded broker and hub, with the credentials a
// CI job holds (a node enrolled for CI, or an operator client); and with a broker that refuses it or
// is not there, where the verdict, the report and the exit code must not change.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { WebUsers } from '../../auth/web-users.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { mayConnect, mayPublish, recordClientId } from '../../broker/acl.ts';
import { EXIT_MAX_RSS } from '../../cli/record.ts';
import { ciRecordLine } from '../../web/client/session-ci-line.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';
import { cleanup, quietLog, REPO, runCleanups, spawnProcess, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterAll(runCleanups);

const LEAKER = join(REPO, 'test/fixtures/programs/leaker.mjs');
/** Runs 3 s: enough samples at 250 ms for a verdict. */
const SHORT_COMMAND = [process.execPath, '-e', 'setTimeout(() => {}, 3000)'];

let broker: EmbeddedBroker;
let brokerUrl: string;
let api: string;
let credentials: MqttCredentials;
let apiToken: string;
/** The token of node "ci", as `remonitor node add ci` prints it. */
let ciToken: string;
/** Where the CI job runs: the downloaded bundle, no node_modules anywhere above it. */
let job: string;
let bundle: string;

beforeAll(async () => {
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => void db.close());
  credentials = new MqttCredentials(db);
  const users = new WebUsers(db);
  apiToken = users.addApiToken('reader', 'viewer').token;
  broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials });
  await broker.start();
  cleanup(() => broker.stop());
  brokerUrl = `mqtt://127.0.0.1:${broker.port}`;
  const hubToken = credentials.issue('remonitor-hub', 'hub');
  ciToken = credentials.add('ci', 'node');
  ({ api } = await startHub(brokerUrl, dataDir, { username: 'remonitor-hub', password: hubToken, webAuth: createWebAuth({ users }) }));

  // What the README's CI step does: fetch the bundle from the hub, no login (it holds no secret).
  const res = await fetch(`${api}/agent/remonitor-record.mjs`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  job = join(tempDir('remonitor-ci-job-'), 'workspace');
  mkdirSync(job);
  bundle = join(job, 'remonitor-record.mjs');
  writeFileSync(bundle, Buffer.from(await res.arrayBuffer()));
});

/** The bundle with plain `node`, credentials in the environment as a CI secret would be. */
async function recordInCi(args: string[], env: Record<string, string> = {}) {
  const p = spawnProcess(process.execPath, [bundle, '--interval', '250ms', ...args], { cwd: job, env: { REMONITOR_BROKER: brokerUrl, ...env } });
  const { code } = await p.exited;
  return { code, output: p.output() };
}

const reportOf = (file: string) => JSON.parse(readFileSync(join(job, file), 'utf8'));

async function sessionOnHub(id: string) {
  return waitFor(`session ${id} ended on the hub`, async () => {
    const res = await fetch(`${api}/api/sessions/${id}`, { headers: { authorization: `Bearer ${apiToken}` } });
    const body = res.ok ? await res.json() : null;
    return body?.state === 'ended' ? body : null;
  });
}

describe('the record bundle against a hub with credentials', () => {
  it('reports the session with a node token made for CI (remonitor node add ci), the node name taken from the user name', async () => {
    const { code, output } = await recordInCi(['--quiet', '--out', 'node.json', '--', ...SHORT_COMMAND], {
      REMONITOR_USERNAME: 'ci',
      REMONITOR_PASSWORD: ciToken,
    });
    expect(code, output).toBe(0);
    expect(output).not.toMatch(/WARNING/);
    const report = reportOf('node.json');
    expect(report.node).toBe('ci');
    expect(report.hub).toMatchObject({ node: 'ci', problem: null });
    expect(report.hub.acked).toBe(report.hub.samples);
    expect(output).toContain(`hub: session ${report.session} of node ci sent through ${brokerUrl} (${report.hub.acked} samples)`);
    const session = await sessionOnHub(report.session);
    expect(session).toMatchObject({ node: 'ci', source: 'record' });
    expect(session.samples.length).toBe(report.hub.samples);
  });

  it('reports it with an operator client under any node name, and two jobs at once do not take each other over', async () => {
    const token = credentials.add('ci-ops', 'operator');
    const env = { REMONITOR_USERNAME: 'ci-ops', REMONITOR_PASSWORD: token };
    const [a, b] = await Promise.all([
      recordInCi(['--quiet', '--node', 'build-7', '--out', 'a.json', '--', ...SHORT_COMMAND], env),
      recordInCi(['--quiet', '--node', 'build-7', '--out', 'b.json', '--', ...SHORT_COMMAND], env),
    ]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    for (const file of ['a.json', 'b.json']) {
      const report = reportOf(file);
      expect(report.hub.problem, file).toBeNull();
      expect((await sessionOnHub(report.session)).node).toBe('build-7');
    }
  });

  it.each([
    [
      'no credentials',
      {},
      [],
      /refused this client \(Connection refused: Bad username or password: the broker needs credentials: pass --username and --password/,
    ],
    [
      'a wrong token',
      { REMONITOR_USERNAME: 'ci', REMONITOR_PASSWORD: 'rmt_wrong' },
      [],
      /refused this client \(Connection refused: Bad username or password: check --username ci and its token/,
    ],
    [
      'a node token for another node name',
      { REMONITOR_USERNAME: 'ci', REMONITOR_PASSWORD: 'CI_TOKEN' },
      ['--node', 'other'],
      /refused this client \(Connection refused: Not authorized: a node token records only under its own name: use --node ci/,
    ],
  ] as const)('with %s: says why once, and still writes the verdict and report', async (what, env, args, warning) => {
    const file = `${what.replace(/\W+/g, '-')}.json`;
    const withToken = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'CI_TOKEN' ? ciToken : v]));
    const { code, output } = await recordInCi(
      ['--quiet', '--out', file, ...args, '--', process.execPath, '-e', 'setTimeout(() => process.exit(3), 1000)'],
      withToken,
    );
    expect(code, output).toBe(3); // the command's own code
    expect(output).toMatch(warning);
    expect(output.match(/refused this client/g)).toHaveLength(1);
    expect(output).toMatch(/WARNING: the hub has no copy of session record-[0-9a-f]{8}: Connection refused/);
    const report = reportOf(file);
    expect(report.hub.acked).toBe(0);
    expect(report.hub.problem).toMatch(/Connection refused/);
    expect(report.exit_code).toBe(3);
  });
});

describe('the line the sessions page suggests for CI', () => {
  it('runs as shown, with the token, the broker port and the test command filled in', async () => {
    const line = ciRecordLine(api, '127.0.0.1');
    expect(line).toContain(
      `curl -fsSLO ${api}/agent/remonitor-record.mjs && REMONITOR_PASSWORD=TOKEN node remonitor-record.mjs --broker mqtt://127.0.0.1:1883 --username ci`,
    );
    const filled = line
      .replace('TOKEN', ciToken)
      .replace(':1883', `:${broker.port}`)
      .replace(/-- npm test$/, `--out page.json -- ${SHORT_COMMAND.map((a) => `'${a}'`).join(' ')}`);
    const dir = tempDir('remonitor-ci-page-');
    const p = spawnProcess('sh', ['-c', filled], { cwd: dir });
    expect((await p.exited).code, p.output()).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'page.json'), 'utf8'));
    expect(report.hub.problem).toBeNull();
    expect((await sessionOnHub(report.session)).node).toBe('ci');
  });
});

describe('the record bundle with the broker away', () => {
  it('warns, and gives the verdict, the reports and the exit code (here --max-rss) all the same', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { code, output } = await recordInCi(['--quiet', '--max-rss', '30MB', '--out', 'away.json', '--html', 'away.html', '--', process.execPath, LEAKER], {
      LEAK_MS: '600000',
      REMONITOR_BROKER: `mqtt://127.0.0.1:${port}`,
      REMONITOR_USERNAME: 'ci',
      REMONITOR_PASSWORD: 'rmt_unused',
    });
    expect(code, output).toBe(EXIT_MAX_RSS);
    expect(output).toMatch(new RegExp(`WARNING: cannot reach the broker at mqtt://127.0.0.1:${port} \\(ECONNREFUSED`));
    expect(output.match(/cannot reach the broker/g)).toHaveLength(1); // said once, not at every retry
    expect(output).toMatch(/(leak suspected|growing|no leak|not enough data): peak RSS/);
    expect(output).toMatch(/WARNING: the hub has no copy of session record-[0-9a-f]{8}: never reached the broker \(ECONNREFUSED/);
    expect(output).toMatch(/FAILED: RSS [\d.]+ MiB passed --max-rss 30\.0 MiB .* exiting 87/);
    const report = reportOf('away.json');
    expect(report.breach.kind).toBe('max-rss');
    expect(report.samples.length).toBeGreaterThan(0);
    expect(report.hub).toMatchObject({ acked: 0 });
    expect(readFileSync(join(job, 'away.html'), 'utf8')).toContain('never reached the broker');
  });
});

describe('the broker rules for record clients', () => {
  const ci = { name: 'ci', role: 'node' } as const;
  const ops = { name: 'ci-ops', role: 'operator' } as const;
  const viewer = { name: 'watcher', role: 'viewer' } as const;
  it.each([
    [ci, recordClientId('0123abcd', 'ci'), true],
    [ci, recordClientId('0123abcd', 'ci-2'), false], // another node's record id
    [ci, recordClientId('0123abcd', 'c'), false],
    [ci, 'remonitor-record-0123abcd-x-ci', false], // not 8 hex digits then the name
    [ci, 'remonitor-record-ci', false],
    [ops, recordClientId('0123abcd', 'build-7'), true],
    [viewer, recordClientId('0123abcd', 'build-7'), true],
  ] as const)('%j connects as %s: %s', (identity, clientId, allowed) => {
    expect(mayConnect(identity, clientId)).toBe(allowed);
  });

  it.each([
    [ci, 'remonitor/ci/procs', true],
    [ci, 'remonitor/other/procs', false],
    [ops, 'remonitor/build-7/procs', true],
    [ops, 'remonitor/build-7/metrics', false],
    [viewer, 'remonitor/build-7/procs', false],
  ] as const)('%j publishes on %s: %s', (identity, topic, allowed) => {
    expect(mayPublish(identity, topic)).toBe(allowed);
  });
});
