// An auth.db written before the home-assistant role existed: its table's CHECK lists only the old
// roles, and SQLite cannot alter a CHECK. Opening it rebuilds the table once, keeping every row.
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

// The table as the previous version created it, word for word.
const OLD_SCHEMA = `
CREATE TABLE IF NOT EXISTS mqtt_clients (
  name       TEXT PRIMARY KEY,
  role       TEXT NOT NULL CHECK (role IN ('node', 'viewer', 'operator', 'hub')),
  token_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);
CREATE INDEX IF NOT EXISTS mqtt_clients_revoked ON mqtt_clients (revoked_ms) WHERE revoked_ms IS NOT NULL;
`;

describe('an auth.db from before the home-assistant role', () => {
  it('takes a home-assistant client after the upgrade, and old tokens and revocations still hold', () => {
    const dataDir = tempDir();
    const before = openAuthDb(dataDir);
    before.exec(OLD_SCHEMA);
    // Rows written the way the old version wrote them (through the old CHECK); the tokens come from
    // today's code on a second, throwaway database so that their hashes are real.
    const minting = openAuthDb(tempDir());
    const mint = new MqttCredentials(minting, () => 1_000);
    const nodeToken = mint.add('pi-1', 'node');
    mint.add('old-dash', 'viewer');
    mint.revoke('old-dash');
    for (const row of minting.prepare('SELECT * FROM mqtt_clients').all() as Record<string, unknown>[]) {
      before.prepare('INSERT INTO mqtt_clients VALUES (@name, @role, @token_hash, @created_ms, @revoked_ms)').run(row);
    }
    minting.close();
    expect(() => before.prepare("INSERT INTO mqtt_clients VALUES ('ha', 'home-assistant', 'x', 1, NULL)").run()).toThrow(/CHECK constraint failed/);
    before.close();

    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const credentials = new MqttCredentials(db);
    const haToken = credentials.add('homeassistant', 'home-assistant');
    expect(credentials.verify('homeassistant', haToken)).toEqual({ name: 'homeassistant', role: 'home-assistant' });
    expect(credentials.verify('pi-1', nodeToken)).toEqual({ name: 'pi-1', role: 'node' });
    expect(credentials.list().map((r) => `${r.name} ${r.role} ${r.revokedMs === null ? 'active' : 'revoked'}`)).toEqual([
      'homeassistant home-assistant active',
      'old-dash viewer revoked',
      'pi-1 node active',
    ]);
    // Still refuses what no role allows, and the revocation index came back with the table.
    expect(() => db.prepare("INSERT INTO mqtt_clients VALUES ('x', 'admin', 'x', 1, NULL)").run()).toThrow(/CHECK constraint failed/);
    const index = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mqtt_clients' AND name = 'mqtt_clients_revoked'").get();
    expect(index).toBeDefined();
    // A second open (another process, the next start) finds nothing to do.
    const schema = () => db.prepare("SELECT sql FROM sqlite_master WHERE name = 'mqtt_clients'").pluck().get();
    const rebuilt = schema();
    new MqttCredentials(db);
    expect(schema()).toBe(rebuilt);
    expect(credentials.verify('homeassistant', haToken)).not.toBeNull();
  });
});
