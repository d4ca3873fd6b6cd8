// In a shared-subscription group, one hub at a time runs what must not run twice: alarm
// evaluation and notifications, process-watch sessions and remote commands. That hub holds a
// PostgreSQL advisory lock on a connection of its own; the server releases it when that
// connection ends, so when the coordinator dies another hub takes over within `retryMs`.
// The coordinator writes where its API is; the others forward those API calls there.
import pg from 'pg';
import type { Logger } from '../../shared/logger.ts';

/** Advisory-lock key space of coordinators (the first of the two int4 keys): "rmco". */
const LOCK_SPACE = 0x726d636f;
/** The advisory lock space of hub ids: one live process per id and group. */
const HUB_ID_SPACE = 0x726d6964;
const LOOKUP_CACHE_MS = 1000;

export interface Coordinator {
  hubId: string;
  apiUrl: string;
}

/** The current coordinator of `group` (or of the newest group when none is named); null when none has been elected. */
export async function findCoordinator(db: pg.Pool | pg.Client, group?: string): Promise<Coordinator | null> {
  const { rows } = await db.query<{ hub_id: string; api_url: string }>(
    group
      ? 'SELECT hub_id, api_url FROM group_coordinator WHERE group_name = $1'
      : 'SELECT hub_id, api_url FROM group_coordinator ORDER BY since_ms DESC LIMIT 1',
    group ? [group] : [],
  );
  return rows[0] ? { hubId: rows[0].hub_id, apiUrl: rows[0].api_url } : null;
}

/** findCoordinator, asked at most once a second: a web process forwards many calls. */
export function cachedCoordinatorLookup(pool: pg.Pool, group?: string): () => Promise<Coordinator | null> {
  let cached: { at: number; value: Promise<Coordinator | null> } | null = null;
  return () => {
    if (!cached || Date.now() - cached.at > LOOKUP_CACHE_MS) cached = { at: Date.now(), value: findCoordinator(pool, group).catch(() => null) };
    return cached.value;
  };
}

export interface GroupCoordinationOptions {
  /** The PostgreSQL connection string the hub stores into. */
  url: string;
  group: string;
  hubId: string;
  log: Logger;
  /** Starts the coordinator's services; called once, when this hub is elected. */
  onElected: () => Promise<void>;
  /** This hub held the lock and lost it (its database connection ended): it must stop coordinating. */
  onLost: (err: Error) => void;
  /** How often a hub that is not the coordinator tries to become it (ms; 2000). */
  retryMs?: number;
  pool: pg.Pool;
}

export class GroupCoordination {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private trying = false;
  private stopped = false;
  elected = false;
  private readonly lookup: () => Promise<Coordinator | null>;

  /** Where the other hubs and web processes reach this hub's API: set before start, once its web server listens. */
  apiUrl = '';

  constructor(private readonly options: GroupCoordinationOptions) {
    this.lookup = cachedCoordinatorLookup(options.pool, options.group);
  }

  /**
   * Holds this hub's id in the group for as long as the process lives (a session lock on the
   * connection that also runs for coordinator), before the hub connects to the broker: two hubs
   * with one id would take each other's persistent MQTT session and kick each other off without
   * a word. Throws, naming the id and the flag, when a live process holds it.
   */
  async claimHubId(): Promise<void> {
    const client = await this.connection();
    if (await this.holdHubId(client)) return;
    this.client = null;
    await client.end().catch(() => undefined);
    const { group, hubId } = this.options;
    throw new Error(
      `hub id "${hubId}" is already live in group "${group}": another hub process holds it. Give each hub of a group its own --hub-id (it defaults to the host name, so two hubs on one machine need one each)`,
    );
  }

  private async holdHubId(client: pg.Client): Promise<boolean> {
    const { group, hubId } = this.options;
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [HUB_ID_SPACE, `${group}/${hubId}`]);
    return rows[0]?.ok === true;
  }

  /** The connection that holds this hub's locks, made (and the hub id taken again) when it is gone. */
  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('error', (err) => this.connectionEnded(client, err));
    client.on('end', () => this.connectionEnded(client, new Error('the connection holding the coordinator lock ended')));
    await client.connect();
    this.client = client;
    return client;
  }

  async start(): Promise<void> {
    await this.tryToLead();
    this.timer = setInterval(() => void this.tryToLead(), this.options.retryMs ?? 2000);
    this.timer.unref();
  }

  /** 'self' while this hub coordinates (serve locally), else the coordinator to forward to, or 'none' before one is elected. */
  async forwardTo(): Promise<Coordinator | 'none' | 'self'> {
    if (this.elected) return 'self';
    return (await this.lookup()) ?? 'none';
  }

  private async tryToLead(): Promise<void> {
    if (this.elected || this.trying || this.stopped) return;
    this.trying = true;
    const { group, hubId, log } = this.options;
    const apiUrl = this.apiUrl;
    try {
      if (!this.client) {
        // A new connection (the one before ended): the hub id's lock went with it.
        const client = await this.connection();
        if (!(await this.holdHubId(client))) {
          log.error({ group, hubId }, 'another process took this hub id while the database connection was down: not coordinating');
          return;
        }
      }
      const { rows } = await this.client!.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_SPACE, group]);
      if (!rows[0]?.ok) return;
      this.elected = true;
      await this.client!.query(
        `INSERT INTO group_coordinator (group_name, hub_id, api_url, since_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_name) DO UPDATE SET hub_id = excluded.hub_id, api_url = excluded.api_url, since_ms = excluded.since_ms`,
        [group, hubId, apiUrl, Date.now()],
      );
      log.info({ group, hubId, apiUrl }, 'this hub coordinates the group: alarms, sessions and commands run here');
      await this.options.onElected();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not take part in the coordinator election; will retry');
      if (!this.elected) {
        const client = this.client;
        this.client = null;
        await client?.end().catch(() => undefined);
      }
    } finally {
      this.trying = false;
    }
  }

  private connectionEnded(client: pg.Client, err: Error): void {
    if (client !== this.client) return;
    this.client = null;
    if (this.elected && !this.stopped) {
      this.elected = false;
      this.stopped = true; // what ran here cannot simply start again in this process
      this.options.onLost(err);
    }
  }

  /** Gives the role up (the lock goes with the connection). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (client && this.elected)
      await client
        .query('DELETE FROM group_coordinator WHERE group_name = $1 AND hub_id = $2', [this.options.group, this.options.hubId])
        .catch(() => undefined);
    this.elected = false;
    await client?.end().catch(() => undefined);
  }
}
