// deploy/install-hub.sh with no --prefix on a fake host (test/deploy/fake-host.ts: a private mount
// namespace whose /etc, /opt, /usr/local/bin, /var/lib and /run are temporary folders) that has
// systemctl but no running systemd, like a container: it installs, starts nothing, says how to run
// the hub, and puts `remonitor` on PATH working on the installed hub's data directory.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemctl } from '../helpers/fake-systemd.ts';
import { REPO, runCleanups } from '../helpers/parts.ts';
import { fakeHost } from './fake-host.ts';

afterEach(runCleanups);

describe('install-hub.sh on a host without a running systemd', () => {
  it('starts nothing, prints the command to run the hub, and `remonitor node add` works from PATH', () => {
    const host = fakeHost({ systemdRunning: false });
    const systemctl = fakeSystemctl(); // installed, as in many containers; it must not be asked
    const env = { ...process.env, PATH: `${systemctl.binDir}:/usr/local/bin:${process.env.PATH}` };
    const run = host.run(['/bin/sh', `${REPO}deploy/install-hub.sh`, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/systemd is not running here \(a container or a chroot\?\), so no service was\nstarted/);
    expect(run.stdout).toMatch(
      /Run the hub now, in the foreground: \S*node \/opt\/remonitor-hub\/bin\/remonitor\.mjs up --config \/etc\/remonitor\/hub\.json --data-dir \/var\/lib\/remonitor$/m,
    );
    expect(systemctl.calls()).toEqual([]);
    expect(readlinkSync(host.outside('/etc/systemd/system/multi-user.target.wants/remonitor-hub.service'))).toBe('../remonitor-hub.service');
    expect(readFileSync(host.outside('/usr/local/bin/remonitor'), 'utf8')).toMatch(/^exec \S*node \/opt\/remonitor-hub\/bin\/remonitor\.mjs "\$@"$/m);

    // The README's next step, as typed: `remonitor` found on PATH, the hub's data directory by default.
    const added = host.run(['/bin/sh', '-c', 'remonitor node add garden-pi'], env);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/enrolled node "garden-pi"/);
    expect(existsSync(host.outside('/var/lib/remonitor/auth.db'))).toBe(true);
  });
});
