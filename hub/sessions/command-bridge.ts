// The hub's side of remote commands and sessions, on its own MQTT client: publishes commands on
// remonitor/<node>/cmd, matches replies by id with a bounded wait, records watch samples from
// remonitor/+/procs, and re-sends the running sessions of a node that comes back online (the
// agent keeps watches in memory only, so a restarted agent learns them again this way). A watch
// sample the database refuses (locked past its wait, a full disk, PostgreSQL out of reach) is kept
// and stored later, in order.
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connectHubClient, firstConnect } from '../hub-mqtt.ts';
import { CommandError, decodeReply, encodeCommand, formatTarget, parseCommand, type Command, type Reply, type WatchTarget } from '../../protocol/commands.ts';
import { decodeProcs, type ProcsSample } from '../../protocol/procs.ts';
import { parseStatus, parseTopic, topics } from '../../protocol/topics.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AgentControlState } from '../../shared/session-types.ts';
import type { AnySessionState } from '../storage/session-state.ts';
import { whenStored } from '../storage/alarm-state.ts';
import { isStoreFailure } from '../../shared/sqlite-open.ts';

export interface CommandBridgeOptions {
  brokerUrl: string;
  sessions: AnySessionState;
  log: Logger;
  username?: string;
  password?: string;
  /** Replies kept for GET /api/commands/:id. */
  keepReplies?: number;
}

export type SendOutcome =
  | { status: 'replied'; id: string; reply: Reply }
  | { status: 'pending'; id: string }
  | { status: 'offline'; id: string; message: string }
  | { status: 'invalid'; message: string };

interface Pending {
  node: string;
  waiters: ((reply: Reply) => void)[];
}

/** Why watch samples wait to be stored: since when, the last error (naming the file), how many wait. */
export interface StoreFailure {
  sinceMs: number;
  error: string;
  waiting: number;
}

/** Watch samples kept while the database refuses them; past this, the oldest go (about 4 MiB). */
const MAX_UNSTORED_PROCS = 10_000;
/** How often kept watch samples are tried again, ms. */
const STORE_RETRY_MS = 1000;
const DROP_LOG_INTERVAL_MS = 60_000;

/** An error of a database that answers over a network and may answer again: no connection, shutting down, out of resources. */
function unreachable(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || /^(08|53|57)/.test(code) || /^E[A-Z]/.test(code);
}

export class CommandBridge {
  private client: MqttClient | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly replies = new Map<string, { node: string; reply: Reply | null; sent_ms: number }>();
  private readonly status = new Map<string, 'online' | 'offline'>();
  private readonly control = new Map<string, AgentControlState>();
  readonly stats = { sent: 0, replies: 0, procs: 0, rejected: 0, procsDropped: 0 };
  /** Watch samples the database refused, oldest first; stored before any newer one. */
  private unstored: { node: string; sample: ProcsSample }[] = [];
  private storeFailing: { sinceMs: number; error: string } | null = null;
  /** The store is writing the oldest kept sample (one that answers later): the next waits for it. */
  private storing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastDropLog = -Infinity;
  /** Since when the broker has been out of reach; null while connected (or before start). */
  private disconnectedSinceMs: number | null = null;
  private stopping = false;

  constructor(private readonly options: CommandBridgeOptions) {}

  /** Watch samples waiting because the database refuses them; null while they are stored. */
  get storeFailure(): StoreFailure | null {
    return this.storeFailing && { ...this.storeFailing, waiting: this.unstored.length };
  }

  /** Since when this client has been unable to reach the broker (ms), or null while connected. */
  get brokerDownSinceMs(): number | null {
    return this.disconnectedSinceMs;
  }

  async start(): Promise<void> {
    const { brokerUrl, log } = this.options;
    const client = connectHubClient('hub-cmd', { brokerUrl, username: this.options.username, password: this.options.password });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => log.warn({ err: err.message }, 'command bridge mqtt error'));
    client.on('close', () => {
      if (!this.stopping) this.disconnectedSinceMs ??= Date.now();
    });
    client.on('connect', () => {
      this.disconnectedSinceMs = null;
      client
        .subscribeAsync({ [topics.allNodes('reply')]: { qos: 1 }, [topics.allNodes('procs')]: { qos: 1 }, [topics.allNodes('status')]: { qos: 1 } })
        .catch((err: Error) => log.error({ err: err.message }, 'command bridge could not subscribe'));
    });
    await firstConnect(client, 'command bridge', brokerUrl);
    this.retryTimer = setInterval(() => this.storeKept(), STORE_RETRY_MS);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.pending.values()) p.waiters.splice(0);
    this.pending.clear();
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.storeKept(); // a last attempt: what still fails is lost with the process
    await this.storing;
    await this.client?.endAsync();
  }

  nodeStatus(node: string): 'online' | 'offline' | 'unknown' {
    return this.status.get(node) ?? 'unknown';
  }

  controlState(node: string): AgentControlState {
    return this.control.get(node) ?? { node, paused: null, interval_ms: null, watches: [], updated_ms: null };
  }

  /** The reply to an earlier command: null while it is awaited, undefined for an id never sent (or forgotten). */
  replyTo(id: string): { node: string; reply: Reply | null } | undefined {
    return this.replies.get(id);
  }

  /**
   * Sends `{action, …}` to a node and waits up to `waitMs` for the reply. The id is the caller's
   * when given (idempotent retries), else a fresh one. An offline node is answered at once.
   */
  async send(node: string, fields: Record<string, unknown>, waitMs = 5000): Promise<SendOutcome> {
    const id = typeof fields['id'] === 'string' ? fields['id'] : `h-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let command: Command;
    try {
      command = parseCommand({ ...fields, id });
    } catch (err) {
      return { status: 'invalid', message: (err as Error).message };
    }
    const status = this.nodeStatus(node);
    if (status !== 'online') {
      return { status: 'offline', id, message: `node "${node}" is ${status === 'offline' ? 'offline' : 'not known to be online'}: the command was not sent` };
    }
    return this.sendCommand(node, command, waitMs);
  }

  private async sendCommand(node: string, command: Command, waitMs: number): Promise<SendOutcome> {
    const { id } = command;
    const done = this.replies.get(id);
    if (done?.reply) return { status: 'replied', id, reply: done.reply };
    this.remember(id, node);
    const reply = new Promise<Reply | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      const entry = this.pending.get(id) ?? { node, waiters: [] };
      entry.waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.pending.set(id, entry);
    });
    this.stats.sent++;
    this.client?.publish(topics.cmd(node), Buffer.from(encodeCommand(command, 'cbor')), { qos: 1 });
    const r = await reply;
    return r ? { status: 'replied', id, reply: r } : { status: 'pending', id };
  }

  private remember(id: string, node: string): void {
    if (!this.replies.has(id)) this.replies.set(id, { node, reply: null, sent_ms: Date.now() });
    const limit = this.options.keepReplies ?? 1000;
    while (this.replies.size > limit) {
      const oldest = this.replies.keys().next().value as string;
      this.replies.delete(oldest);
      this.pending.delete(oldest);
    }
  }

  /** Starts a session: records it, then sends `watch`. A refused watch marks the session failed. */
  async startSession(node: string, target: WatchTarget, intervalMs: number, waitMs = 5000): Promise<{ session: string; outcome: SendOutcome }> {
    const session = `s-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    // Recorded before sending: the first watch samples can arrive before the reply does.
    await this.options.sessions.create({ id: session, node, target: formatTarget(target), interval_ms: intervalMs, source: 'hub', started_ms: Date.now() });
    const outcome = await this.send(node, { action: 'watch', session, target: formatTarget(target), interval_ms: intervalMs }, waitMs);
    if (outcome.status === 'invalid' || outcome.status === 'offline') {
      await this.options.sessions.remove(session); // never sent: no session
      return { session, outcome };
    }
    if (outcome.status === 'replied' && !outcome.reply.ok) await this.options.sessions.setState(session, 'failed', Date.now(), outcome.reply.error);
    return { session, outcome };
  }

  async stopSession(id: string, waitMs = 5000): Promise<SendOutcome | null> {
    const s = await this.options.sessions.get(id);
    if (!s) return null;
    if (s.state === 'running') await this.options.sessions.setState(id, 'stopped', Date.now());
    if (s.state !== 'running' || s.source === 'demo' || s.source === 'record')
      return { status: 'replied', id, reply: { id, ok: true, result: { already: s.state } } };
    return this.send(s.node, { action: 'unwatch', session: id }, waitMs);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    const { node, channel } = parsed;
    try {
      if (channel === 'reply') this.onReply(node, payload);
      else if (channel === 'procs') {
        this.stats.procs++;
        this.storeProcs(node, decodeProcs(payload));
      } else if (channel === 'status') {
        const now = parseStatus(payload);
        if (!now) return;
        const before = this.status.get(node);
        this.status.set(node, now);
        if (now === 'online' && before !== 'online')
          void this.resendSessions(node).catch((err: Error) => this.options.log.warn({ node, err: err.message }, 'could not read the sessions to resume'));
      }
    } catch (err) {
      this.stats.rejected++;
      this.options.log.warn({ node, topic, err: (err as Error).message }, 'command bridge dropped a message');
    }
  }

  /**
   * Stores a watch sample, or keeps it (behind any kept before it) when the database refuses it
   * (hub/sqlite-open.ts isStoreFailure); a sample the database can never take is rejected.
   */
  private storeProcs(node: string, sample: ProcsSample): void {
    this.unstored.push({ node, sample });
    if (this.unstored.length > MAX_UNSTORED_PROCS) {
      this.unstored.shift();
      this.stats.procsDropped++;
      const now = Date.now();
      if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
        this.lastDropLog = now;
        this.options.log.error(
          { kept: MAX_UNSTORED_PROCS, dropped: this.stats.procsDropped, err: this.storeFailing?.error },
          'the database refuses watch samples and the queue is full: dropping the oldest (logged once a minute)',
        );
      }
    }
    this.storeKept();
  }

  /**
   * Stores the kept watch samples, oldest first, stopping at the first refused (tried again by the
   * timer). A synchronous store (SQLite) stores them in this turn; one that answers later, one at a time.
   */
  private storeKept(): void {
    while (this.unstored.length > 0 && !this.storing) {
      const kept = this.unstored[0]!;
      const done = () => {
        const i = this.unstored.indexOf(kept); // the oldest may have gone past the cap meanwhile
        if (i >= 0) this.unstored.splice(i, 1);
      };
      let inTurn = true;
      let refused = false;
      const write = whenStored(
        () => this.options.sessions.addSample(kept.node, kept.sample),
        (gone) => {
          done();
          if (gone) void this.dropWatch(kept.node, kept.sample.session);
        },
        (err) => {
          if (isStoreFailure(err) || (!inTurn && unreachable(err))) {
            refused = true;
            this.storeFailing ??= { sinceMs: Date.now(), error: '' };
            this.storeFailing.error = err.message;
            return;
          }
          done();
          this.stats.rejected++;
          this.options.log.warn(
            { node: kept.node, session: kept.sample.session, err: err.message },
            'command bridge dropped a watch sample the database cannot take',
          );
        },
      );
      inTurn = false;
      if (write) {
        this.storing = write.finally(() => {
          this.storing = null;
          if (!refused) this.storeKept();
        });
        return;
      }
      if (refused) return;
    }
    if (this.unstored.length === 0) this.storeFailing = null;
  }

  /** A session that ended because its processes are gone: the agent's watch of it is dropped too (ours only). */
  private async dropWatch(node: string, session: string): Promise<void> {
    if ((await this.options.sessions.get(session))?.source !== 'hub') return;
    void this.send(node, { action: 'unwatch', session });
  }

  private onReply(node: string, payload: Buffer): void {
    let reply: Reply;
    try {
      reply = decodeReply(payload);
    } catch (err) {
      if (err instanceof CommandError) throw new Error(`malformed reply: ${err.message}`);
      throw err;
    }
    this.stats.replies++;
    if (reply.ok) {
      const r = reply.result;
      this.control.set(node, {
        node,
        paused: typeof r['paused'] === 'boolean' ? r['paused'] : null,
        interval_ms: typeof r['interval_ms'] === 'number' ? r['interval_ms'] : null,
        watches: Array.isArray(r['watches']) ? r['watches'].filter((w): w is string => typeof w === 'string') : [],
        updated_ms: Date.now(),
      });
    }
    if (reply.id === null) return;
    const known = this.replies.get(reply.id);
    if (known) known.reply = reply;
    const waiting = this.pending.get(reply.id);
    if (waiting) {
      this.pending.delete(reply.id);
      for (const w of waiting.waiters) w(reply);
    }
  }

  /** A node back online gets its running sessions again; the agent answers "already" for those it still has. */
  private async resendSessions(node: string): Promise<void> {
    for (const s of await this.options.sessions.runningOn(node)) {
      const fields = { id: `resume-${s.id}-${Date.now().toString(36)}`, action: 'watch', session: s.id, target: s.target, interval_ms: s.interval_ms };
      void this.send(node, fields, 5000).then((o) => {
        if (o.status === 'replied' && !o.reply.ok) void this.options.sessions.setState(s.id, 'failed', Date.now(), o.reply.error);
      });
    }
  }
}
