// Security on by default for every server command: MQTT credentials and web logins from the data
// directory's auth.db. `--insecure` turns both off for a local experiment, and is refused on any
// address another machine can reach.
import { resolve } from 'node:path';
import { openAuthDb, type AuthDb } from '../auth/auth-db.ts';
import { isLoopbackHost } from '../auth/loopback.ts';
import { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { WebUsers } from '../auth/web-users.ts';
import type { Logger } from '../shared/logger.ts';
import { OptionsError, switchOption } from '../shared/options.ts';
import { createWebAuth, type WebAuth } from '../web/auth/web-auth.ts';

export const insecureOption = switchOption('insecure', 'no MQTT credentials and no web login; refused unless every listener is on loopback');

/** The MQTT identity `remonitor up` issues to its own hub at each start. */
export const HUB_IDENTITY = 'remonitor-hub';

/** Throws an OptionsError when `--insecure` is asked for on a listener beyond loopback. */
export function checkInsecure(insecure: boolean, host: string): void {
  if (insecure && !isLoopbackHost(host)) {
    throw new OptionsError([`--insecure: refused because --host ${host} is reachable from other machines; use --host 127.0.0.1 or drop --insecure`]);
  }
}

export interface Security {
  /** Null when --insecure. */
  credentials: MqttCredentials | null;
  /** Undefined when --insecure: the web tier is open. */
  webAuth: WebAuth | undefined;
  /**
   * Once the dashboard at `url` listens: on the first start (no user yet), makes user `admin` and
   * prints its password. Made only then, so a start that fails earlier (a port taken) leaves no
   * admin whose password nobody saw, and the next start prints one.
   */
  announceAdmin(url: string): Promise<void>;
  close(): void;
}

export async function openSecurity(o: { insecure: boolean; host: string; dataDir: string; tlsCert: string | undefined }, log: Logger): Promise<Security> {
  checkInsecure(o.insecure, o.host);
  if (!isLoopbackHost(o.host) && o.tlsCert === undefined) {
    log.warn(
      { host: o.host },
      'listening beyond loopback without TLS: tokens, passwords and data cross the network in clear; add --tls-cert and --tls-key (docs/tls.md)',
    );
  }
  if (o.insecure) {
    log.warn({ host: o.host }, 'security is off (--insecure): anyone on this machine can publish, command nodes and read the dashboard');
    return { credentials: null, webAuth: undefined, announceAdmin: async () => {}, close: () => {} };
  }
  const db: AuthDb = openAuthDb(o.dataDir);
  const users = new WebUsers(db);
  return {
    credentials: new MqttCredentials(db),
    webAuth: createWebAuth({ users }),
    async announceAdmin(url) {
      const admin = await users.ensureAdmin();
      // Once ever: only the hash is kept, so this line is the one chance to read the password.
      if (admin) {
        const dataDir = ` --data-dir ${resolve(o.dataDir)}`;
        console.log(`remonitor: first start: sign in at ${url}login as "${admin.name}" with password ${admin.password}`);
        console.log(
          `remonitor: this password is shown once; change it with \`remonitor user passwd admin${dataDir}\`, add people with \`remonitor user add NAME --role viewer${dataDir}\``,
        );
      }
    },
    close: () => db.close(),
  };
}
