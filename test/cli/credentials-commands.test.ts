// `remonitor node …` and `remonitor client …` as a user runs them: the built CLI (run
// `node scripts/build.mjs` first) against a data directory, and the agent command line that
// `node add` prints, pasted as is, against a real broker that checks credentials.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { topics } from '../../protocol/topics.ts';
import { CLI, cleanup, quietLog, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

async function cli(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnProcess(process.execPath, [CLI, ...args]);
  const { code } = await child.exited;
  return { code, output: child.output() };
}

const TOKEN = /rmt_[A-Za-z0-9_-]{43}/;

describe('remonitor node', () => {
  it('add prints a token once and an agent command line that works as pasted; revoke disconnects that agent', async () => {
    const dataDir = tempDir();
    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials: new MqttCredentials(db) });
    await broker.start();
    cleanup(() => broker.stop());

    const added = await cli('node', 'add', 'kitchen-pi', '--data-dir', dataDir, '--hub-host', '127.0.0.1', '--mqtt-port', String(broker.port));
    expect(added.code).toBe(0);
    const token = added.output.match(TOKEN)![0];
    expect(added.output).toContain(`curl -fsSL http://127.0.0.1:8080/install.sh | sh -s -- --node kitchen-pi --token ${token}`);
    const agentLine = added.output.split('\n').find((l) => l.trim().startsWith('remonitor agent '))!;
    expect(agentLine.trim()).toBe(`remonitor agent --broker mqtt://127.0.0.1:${broker.port} --node kitchen-pi --username kitchen-pi --password ${token}`);

    const hubToken = (await cli('client', 'add', 'hub', '--role', 'hub', '--data-dir', dataDir)).output.match(TOKEN)![0];
    const hub: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      username: 'hub',
      password: hubToken,
    });
    cleanup(() => hub.endAsync(true));
    const seen: string[] = [];
    hub.on('message', (topic, payload) => seen.push(topic === topics.status('kitchen-pi') ? `status ${payload.toString()}` : topic));
    await hub.subscribeAsync('#', { qos: 1 });

    // The printed line, pasted: its arguments after `remonitor`, plus a spool directory for the test.
    const agent = spawnProcess(process.execPath, [
      CLI,
      ...agentLine.trim().split(/\s+/).slice(1),
      '--interval',
      '250ms',
      '--spool-dir',
      tempDir(),
      '--log-level',
      'warn',
    ]);
    await waitFor('samples from the agent', () => seen.includes(topics.metrics('kitchen-pi')));
    expect(seen).toContain('status online');

    const revoked = await cli('node', 'revoke', 'kitchen-pi', '--data-dir', dataDir);
    expect(revoked.code).toBe(0);
    // The broker ends the session; its last will tells subscribers the node went offline.
    await waitFor('the node offline after revocation', () => seen.includes('status offline'), 10_000);
    const afterRevoke = seen.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(seen.slice(afterRevoke).filter((t) => t === topics.metrics('kitchen-pi'))).toEqual([]); // it stays out
    expect(agent.child.exitCode).toBeNull(); // the agent keeps retrying; that is its job

    const listed = await cli('node', 'list', '--data-dir', dataDir);
    expect(listed.output).toMatch(/kitchen-pi\s+node\s+\S+\s+revoked /);
    expect(listed.output).not.toContain('hub'); // clients are listed by `client list`
  });

  it.each([
    [['node', 'add', 'bad/name'], /contains "\/"/],
    [['node', 'add'], /add needs a NAME/],
    [['node', 'revoke', 'nobody'], /no node named "nobody"/],
    [['node', 'frob'], /unknown action "frob"/],
    [['node', 'list', 'extra'], /list takes no name/],
    [['client', 'add', 'dash'], /add needs --role/],
    [['client', 'add', 'dash', '--role', 'admin'], /--role: must be one of viewer, operator, hub/],
  ])('%j → exit 2 saying what is wrong', async (args, message) => {
    const dataDir = tempDir();
    openAuthDb(dataDir).close(); // a hub's data directory
    const result = await cli(...args, '--data-dir', dataDir);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(message);
  });

  it('says which data directory it used, and refuses to list or revoke in one without auth.db', async () => {
    const dataDir = tempDir();
    for (const args of [
      ['node', 'list'],
      ['node', 'revoke', 'kitchen-pi'],
      ['client', 'list'],
      ['client', 'revoke', 'dash'],
    ]) {
      const refused = await cli(...args, '--data-dir', dataDir);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.output).toContain(`no ${dataDir}/auth.db: no hub keeps its data in ${dataDir}, and nothing was created there`);
      expect(refused.output).toMatch(new RegExp(`e\\.g\\. \`remonitor ${args[0]} list --data-dir /var/lib/remonitor\``));
    }
    expect(existsSync(join(dataDir, 'auth.db'))).toBe(false);
    const added = await cli('node', 'add', 'kitchen-pi', '--data-dir', dataDir);
    expect(added.code).toBe(0);
    expect(added.output).toContain(`remonitor node: new data directory (no hub has used it yet) ${dataDir}`);
    const listed = await cli('node', 'list', '--data-dir', dataDir);
    expect(listed.output).toContain(`remonitor node: data directory ${dataDir}`);
    expect(listed.output).toMatch(/kitchen-pi\s+node/);
  });

  it('refuses to enrol a name twice, and to revoke a client through `node`', async () => {
    const dataDir = tempDir();
    expect((await cli('node', 'add', 'pi', '--data-dir', dataDir)).code).toBe(0);
    const again = await cli('node', 'add', 'pi', '--data-dir', dataDir);
    expect(again.code).toBe(2);
    expect(again.output).toMatch(/"pi" is already enrolled/);
    expect(again.output).not.toMatch(TOKEN);
    expect((await cli('client', 'add', 'dash', '--role', 'viewer', '--data-dir', dataDir)).code).toBe(0);
    const wrong = await cli('node', 'revoke', 'dash', '--data-dir', dataDir);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toMatch(/"dash" is a viewer; use remonitor client revoke/);
    const clients = await cli('client', 'list', '--data-dir', dataDir);
    expect(clients.output).toMatch(/dash\s+viewer\s+\S+\s+active/);
    expect((await cli('client', 'revoke', 'dash', '--data-dir', dataDir)).code).toBe(0);
  });
});
