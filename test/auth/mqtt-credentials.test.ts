// The MQTT credentials store on a real auth.db in a temp dir, with time passed in.
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

function store(clock = { ms: 1_000 }): { credentials: MqttCredentials; clock: { ms: number }; dataDir: string } {
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  return { credentials: new MqttCredentials(db, () => clock.ms), clock, dataDir };
}

describe('MqttCredentials', () => {
  it('verifies the token it handed out, and nothing else', () => {
    const { credentials } = store();
    const token = credentials.add('pi-1', 'node');
    expect(token).toMatch(/^rmt_/);
    expect(credentials.verify('pi-1', token)).toEqual({ name: 'pi-1', role: 'node' });
    expect(credentials.verify('pi-1', Buffer.from(token))).toEqual({ name: 'pi-1', role: 'node' }); // as Aedes passes it
    expect(credentials.verify('pi-1', token + 'x')).toBeNull();
    expect(credentials.verify('pi-2', token)).toBeNull();
    expect(credentials.verify(undefined, token)).toBeNull();
    expect(credentials.verify('pi-1', undefined)).toBeNull();
  });

  it('stores only a hash of the token', () => {
    const { credentials, dataDir } = store();
    const token = credentials.add('pi-1', 'node');
    const db = openAuthDb(dataDir);
    const rows = db.prepare('SELECT * FROM mqtt_clients').all();
    db.close();
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('refuses to enrol a live name twice, and says how to proceed', () => {
    const { credentials } = store();
    credentials.add('pi-1', 'node');
    expect(() => credentials.add('pi-1', 'viewer')).toThrow(/"pi-1" is already enrolled \(role node\); revoke it first/);
  });

  it('rejects bad names and roles with the bad value', () => {
    const { credentials } = store();
    expect(() => credentials.add('a/b', 'node')).toThrow(/"a\/b" contains "\/"/);
    expect(() => credentials.add('#', 'node')).toThrow(/contains "#"/);
    expect(() => credentials.add('ok', 'admin' as never)).toThrow(/got "admin"/);
  });

  it('revokes: the token stops working, the row stays with its time, and add gives a new token', () => {
    const { credentials, clock } = store();
    const old = credentials.add('pi-1', 'node');
    clock.ms = 5_000;
    expect(credentials.revoke('pi-1')).toBe(true);
    expect(credentials.revoke('pi-1')).toBe(false); // already revoked
    expect(credentials.revoke('nobody')).toBe(false);
    expect(credentials.verify('pi-1', old)).toBeNull();
    expect(credentials.list()).toEqual([{ name: 'pi-1', role: 'node', createdMs: 1_000, revokedMs: 5_000 }]);
    expect(credentials.revokedSince(5_000)).toEqual([{ name: 'pi-1', revokedMs: 5_000 }]);
    expect(credentials.revokedSince(5_001)).toEqual([]);
    clock.ms = 6_000;
    const fresh = credentials.add('pi-1', 'node');
    expect(credentials.verify('pi-1', fresh)).toEqual({ name: 'pi-1', role: 'node' });
    expect(credentials.verify('pi-1', old)).toBeNull();
    expect(credentials.revokedSince(0)).toEqual([]);
  });

  it('issue creates or rotates, whatever the state (remonitor up at each start)', () => {
    const { credentials } = store();
    const first = credentials.issue('hub', 'hub');
    const second = credentials.issue('hub', 'hub');
    expect(credentials.verify('hub', first)).toBeNull();
    expect(credentials.verify('hub', second)).toEqual({ name: 'hub', role: 'hub' });
    expect(credentials.isNode('hub')).toBe(false);
    credentials.add('pi-1', 'node');
    expect(credentials.isNode('pi-1')).toBe(true);
  });

  it('is shared between connections to the same auth.db (the CLI writes while the broker reads)', () => {
    const { credentials, dataDir } = store();
    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const token = new MqttCredentials(db).add('pi-9', 'node');
    expect(credentials.verify('pi-9', token)).toEqual({ name: 'pi-9', role: 'node' });
  });
});
