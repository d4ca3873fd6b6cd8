// The scale path's options say plainly what is wrong: a store remonitor does not know, a group
// name that cannot be one topic level, a database that cannot be reached (without printing its
// password), and a shared group on a broker that does not speak MQTT 5.
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgres } from '../helpers/postgres.ts';
import { cleanup, CLI, runCleanups, spawnProcess, startBroker, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

async function hub(args: string[]): Promise<{ code: number | null; output: string }> {
  const run = spawnProcess(process.execPath, [CLI, 'hub', '--insecure', '--http-port', '0', '--data-dir', tempDir(), '--log-level', 'error', ...args]);
  const { code } = await run.exited;
  return { code, output: run.output() };
}

describe('remonitor hub: --storage and --shared-group', () => {
  it('refuses an unknown store and a group name with a slash, both in one message', async () => {
    const { code, output } = await hub(['--storage', 'mysql://db/remonitor', '--shared-group', 'a/b']);
    expect(code).toBe(2);
    expect(output).toMatch(/--storage: "mysql:\/\/" is not a store remonitor knows: give a SQLite file path or a postgres:\/\/ URL/);
    expect(output).toMatch(/--shared-group: must be 1–64 letters, digits/);
  });

  it('refuses an ack interval the agents would not wait for, and one that is not a duration', async () => {
    const late = await hub(['--ack-interval', '20s']);
    expect(late.code).toBe(2);
    expect(late.output).toMatch(/--ack-interval: must be at most 5s: agents send their samples again after 10 s without an ack/);
    const garbled = await hub(['--ack-interval', 'soon']);
    expect(garbled.code).toBe(2);
    expect(garbled.output).toMatch(/--ack-interval: must be a duration such as 0s, 1s or 5s/);
  });

  it('names an unreachable PostgreSQL without its password', async () => {
    const { code, output } = await hub(['--storage', 'postgres://remonitor:s3cret-pw@127.0.0.1:1/remonitor']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/could not open the PostgreSQL store at postgres:\/\/remonitor:\*\*\*@127\.0\.0\.1:1\/remonitor/);
    expect(output).not.toContain('s3cret-pw');
  });

  it('refuses a shared group on SQLite: the hubs of a group share one database', async () => {
    const { code, output } = await hub(['--shared-group', 'ingest', '--hub-id', 'x']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/a shared group needs a PostgreSQL store \(--storage postgres:\/\/…\)/);
  });

  it('says a shared group needs an MQTT 5 broker when given the embedded one', { timeout: 60_000 }, async () => {
    const { url } = await startBroker();
    const postgres = await startPostgres();
    cleanup(() => postgres.stop());
    const { code, output } = await hub(['--broker', url, '--storage', await postgres.createDatabase(), '--shared-group', 'ingest', '--hub-id', 'x']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/--shared-group needs an MQTT 5 broker/);
  });
});
