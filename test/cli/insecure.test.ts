// `--insecure` is for a local experiment only: every server command refuses it on an address
// another machine can reach, before it opens a port, and says what to do instead.
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { CLI, quietLog, runCleanups, spawnProcess, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('--insecure beyond loopback', () => {
  for (const command of ['up', 'broker', 'hub', 'web']) {
    it(`remonitor ${command} --insecure --host 0.0.0.0 is refused`, async () => {
      const run = spawnProcess(process.execPath, [CLI, command, '--insecure', '--host', '0.0.0.0', '--data-dir', tempDir()]);
      const { code } = await run.exited;
      expect(code).toBe(2);
      expect(run.output()).toMatch(
        /--insecure: refused because --host 0\.0\.0\.0 is reachable from other machines; use --host 127\.0\.0\.1 or drop --insecure/,
      );
      expect(run.output()).not.toMatch(/listening|dashboard at/);
    });
  }
});

describe('the hub as a library', () => {
  it('refuses to serve the dashboard without logins beyond loopback, before it starts anything', async () => {
    const hub = new HubService({ brokerUrl: 'mqtt://127.0.0.1:1', dataDir: tempDir(), httpPort: 0, httpHost: '0.0.0.0', log: quietLog });
    await expect(hub.start()).rejects.toThrow(/refusing to serve the dashboard without logins on host "0\.0\.0\.0"/);
    hub.store.close();
  });
});
