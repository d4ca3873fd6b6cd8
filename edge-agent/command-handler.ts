// The agent's side of remonitor/<node>/cmd: decode, act, answer on remonitor/<node>/reply in the
// command's encoding. Idempotent by id (a bounded memory of recent ids: the same id twice does the
// work once and answers twice). Never throws: every problem becomes `ok: false` with a message,
// and the agent keeps sampling.
import { CommandError, decodeCommandPayload, encodeReply, formatTarget, parseCommand, type Command, type Encoding, type Reply } from '../protocol/commands.ts';
import { encodeProcs, type ProcsSample } from '../protocol/procs.ts';
import { topics } from '../protocol/topics.ts';
import type { Logger } from '../shared/logger.ts';
import { listProcesses, ProcessWatch } from './process-watch.ts';

/** What the handler drives on the agent. */
export interface Controllable {
  readonly paused: boolean;
  readonly intervalMs: number;
  pause(): void;
  resume(): void;
  setIntervalMs(ms: number): void;
  /** Takes and publishes one full sample (with the process list) now; resolves with its seq. */
  snapshotNow(): Promise<number>;
}

export interface CommandHandlerOptions {
  node: string;
  agent: Controllable;
  /** Publishes on the agent's connection (mqtt.js queues while the broker is away). */
  publish: (topic: string, payload: Uint8Array, qos: 0 | 1) => void;
  log: Logger;
  /** How many recent command ids are remembered for idempotence. */
  rememberIds?: number;
  procRoot?: string;
  /** At most this many watches at once. */
  maxWatches?: number;
}

export class CommandHandler {
  private readonly recent = new Map<string, Promise<Reply>>();
  readonly watches = new Map<string, ProcessWatch>();
  readonly stats = { handled: 0, failed: 0, repeated: 0 };

  constructor(private readonly options: CommandHandlerOptions) {}

  /** Handles one cmd payload; resolves once the reply has been handed to the client. */
  async handle(payload: Uint8Array): Promise<Reply> {
    let encoding: Encoding = 'cbor';
    let reply: Reply;
    try {
      const decoded = decodeCommandPayload(payload);
      encoding = decoded.encoding;
      const command = parseCommand(decoded.fields);
      const earlier = this.recent.get(command.id);
      if (earlier) {
        this.stats.repeated++;
        reply = await earlier;
      } else {
        const pending = this.run(command);
        this.remember(command.id, pending);
        reply = await pending;
      }
    } catch (err) {
      const id = err instanceof CommandError ? err.id : null;
      reply = { id, ok: false, error: (err as Error).message };
    }
    this.stats.handled++;
    if (!reply.ok) {
      this.stats.failed++;
      this.options.log.warn({ id: reply.id, err: reply.error }, 'command refused');
    }
    try {
      this.options.publish(topics.reply(this.options.node), encodeReply(reply, encoding), 1);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'could not publish a command reply');
    }
    return reply;
  }

  private remember(id: string, reply: Promise<Reply>): void {
    this.recent.set(id, reply);
    const limit = this.options.rememberIds ?? 256;
    while (this.recent.size > limit) this.recent.delete(this.recent.keys().next().value as string);
  }

  private async run(command: Command): Promise<Reply> {
    try {
      return { id: command.id, ok: true, result: { ...(await this.act(command)), ...this.state() } };
    } catch (err) {
      return { id: command.id, ok: false, error: `${command.action}: ${(err as Error).message}` };
    }
  }

  /** The agent's state, added to every successful reply: the hub shows it (paused, interval, watches). */
  private state(): Record<string, unknown> {
    const { agent } = this.options;
    return { paused: agent.paused, interval_ms: agent.intervalMs, watches: [...this.watches.keys()] };
  }

  private async act(command: Command): Promise<Record<string, unknown>> {
    const { agent } = this.options;
    switch (command.action) {
      case 'ping':
        return { pong: true, ts_ms: Date.now() };
      case 'stop':
        agent.pause();
        return {};
      case 'start':
        agent.resume();
        return {};
      case 'interval':
        agent.setIntervalMs(command.interval_ms);
        return {};
      case 'snapshot': {
        const seq = await agent.snapshotNow();
        const processes = listProcesses(this.options.procRoot);
        return { seq, procs_total: processes.length, processes };
      }
      case 'watch': {
        const existing = this.watches.get(command.session);
        const target = formatTarget(command.target);
        // The hub re-sends running sessions when a node comes back: same target, same watch.
        if (existing && formatTarget(existing.options.target) === target && existing.intervalMs === command.interval_ms) {
          return { session: command.session, target, already: true };
        }
        existing?.stop(false);
        if (!existing && this.watches.size >= (this.options.maxWatches ?? 16)) {
          throw new Error(`already ${this.watches.size} watches running, the limit is ${this.options.maxWatches ?? 16}; unwatch one first`);
        }
        const watch = new ProcessWatch({
          session: command.session,
          target: command.target,
          intervalMs: command.interval_ms,
          procRoot: this.options.procRoot,
          publish: (s) => this.publishProcs(s),
        });
        // One read now, so that a bad target or an unreadable /proc is an error in the reply.
        const first = watch.sampleNow();
        this.watches.set(command.session, watch);
        this.publishProcs(first);
        watch.start(command.interval_ms);
        return { session: command.session, target, matched: first.procs.filter((p) => !p.exited).map((p) => p.pid) };
      }
      case 'unwatch': {
        const watch = this.watches.get(command.session);
        if (!watch) throw new Error(`no watch with session "${command.session}" is running (running: ${[...this.watches.keys()].join(', ') || 'none'})`);
        this.watches.delete(command.session);
        watch.stop(true);
        return { session: command.session, samples: watch.cost.samples };
      }
    }
  }

  private publishProcs(sample: ProcsSample): void {
    try {
      this.options.publish(topics.procs(this.options.node), encodeProcs(sample), 1);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, session: sample.session }, 'could not publish a watch sample');
    }
  }

  /** Stops every watch (agent shutdown): no ended sample, so the hub sees the session as interrupted, not finished. */
  stopAll(): void {
    for (const w of this.watches.values()) w.stop(false);
    this.watches.clear();
  }
}
