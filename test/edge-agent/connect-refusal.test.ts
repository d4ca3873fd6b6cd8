// A broker refusing the agent's credentials: the agent says once what to pass and where a token
// comes from, keeps retrying, and does not repeat itself on every attempt. The advice as a table
// of cases; then the bundle against a real broker that checks tokens, counting its refused CONNECTs
// in the broker's own log.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { OncePer, refusalAdvice } from '../../edge-agent/connect-refusal.ts';
import { cleanup, REPO, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('refusalAdvice', () => {
  const pass =
    /Pass --username pi --password TOKEN \(or REMONITOR_USERNAME and REMONITOR_PASSWORD, or "username" and "password" in the --config file\); `remonitor node add pi` on the hub makes a token/;
  const cases: [string, number, { username?: string; password?: string }, RegExp][] = [
    ['wrong token', 4, { username: 'pi', password: 'rmt_x' }, /refused node "pi" as user "pi": the token is wrong, or was revoked\./],
    ['no token', 4, {}, /refused node "pi" with no --username: no token was given \(--password\), and this broker needs one\./],
    ['user without token', 4, { username: 'pi' }, /as user "pi": no token was given/],
    ["another node's user name", 5, { username: 'kitchen', password: 'rmt_x' }, /as user "kitchen": the user name must be the node name/],
    ['token of another identity', 5, { username: 'pi', password: 'rmt_x' }, /as user "pi": the token is not this node's\./],
    ['MQTT 5 bad user name or password', 134, { username: 'pi', password: 'rmt_x' }, /the token is wrong/],
  ];
  it.each(cases)('%s', (_, code, credentials, message) => {
    const advice = refusalAdvice(code, { node: 'pi', ...credentials });
    expect(advice).toMatch(message);
    expect(advice).toMatch(pass);
  });

  it('has nothing to say about refusals that are not about credentials', () => {
    for (const code of [undefined, 'ECONNREFUSED', 1, 2, 3, 136]) expect(refusalAdvice(code, { node: 'pi' }), String(code)).toBeNull();
  });
});

describe('OncePer', () => {
  it('says yes once per interval, and again at once after reset', () => {
    let now = 0;
    const once = new OncePer(60_000, () => now);
    const at = (ms: number) => ((now = ms), once.due());
    expect([at(0), at(1_000), at(59_999), at(60_000), at(61_000)]).toEqual([true, false, false, true, false]);
    once.reset();
    expect([at(62_000), at(63_000)]).toEqual([true, false]);
  });
});

describe('the agent refused by the broker', () => {
  it('says once what to pass, keeps retrying, and does not repeat itself', async () => {
    const authDir = tempDir();
    const db = openAuthDb(authDir);
    cleanup(() => void db.close());
    const credentials = new MqttCredentials(db);
    credentials.add('shed-pi', 'node');
    // The broker's log at debug: each refused CONNECT is a line (warn at first, debug once it throttles).
    const brokerLines: string[] = [];
    const brokerLog = pino({ level: 'debug' }, { write: (line: string) => void brokerLines.push(line) });
    const broker = new EmbeddedBroker({ port: 0, log: brokerLog, credentials });
    await broker.start();
    cleanup(() => broker.stop());
    const refusals = (node: string) => brokerLines.filter((l) => l.includes('MQTT connect denied') && l.includes(`"client":"remonitor-agent-${node}"`)).length;

    const dir = tempDir('remonitor-refused-');
    copyFileSync(join(REPO, 'dist/remonitor-agent.mjs'), join(dir, 'remonitor-agent.mjs'));
    const run = (node: string, extra: string[]) =>
      spawnProcess(
        process.execPath,
        ['remonitor-agent.mjs', '--broker', `mqtt://127.0.0.1:${broker.port}`, '--node', node, '--spool-dir', join(dir, node), ...extra],
        { cwd: dir },
      );
    const wrong = run('shed-pi', ['--username', 'shed-pi', '--password', 'rmt_wrong']);
    const missing = run('barn-pi', []);

    // The backoff starts at 1 s: three attempts each take a few seconds.
    await waitFor('3 refused attempts of each agent', () => refusals('shed-pi') >= 3 && refusals('barn-pi') >= 3, 20_000);
    for (const [agent, problem] of [
      [
        wrong,
        /"msg":"the broker refused node \\"shed-pi\\" as user \\"shed-pi\\": the token is wrong, or was revoked\. Pass --username shed-pi --password TOKEN .*`remonitor node add shed-pi` on the hub makes a token/,
      ],
      [missing, /"msg":"the broker refused node \\"barn-pi\\" with no --username: no token was given .*Pass --username barn-pi --password TOKEN/],
    ] as const) {
      const lines = agent.output().split('\n').filter(Boolean);
      const advice = lines.filter((l) => l.includes('the broker refused'));
      expect(advice, agent.output()).toHaveLength(1);
      expect(advice[0]).toMatch(problem);
      expect(advice[0]).toMatch(/"level":50,.*"err":"Connection refused: Bad username or password"/);
      // Nothing else per attempt: no "mqtt error" and no "connection lost" for a refusal.
      expect(
        lines.filter((l) => /mqtt error|connection lost/.test(l)),
        agent.output(),
      ).toEqual([]);
      expect(agent.child.exitCode).toBeNull();
    }
  }, 30_000);
});
