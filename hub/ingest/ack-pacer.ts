// Acks to each node at most once per interval. An ack covers every seq below it, so the newest
// one replaces those not yet sent: a node sampling at 1 Hz hears from the hub every few seconds
// instead of after every commit. Each ack wakes the agent (about 0.3 ms of a small node's CPU a
// sample) and costs the hub a publish; the spool is freed in whole segments anyway. The interval
// must stay well under the agents' ack timeout (10 s), past which they send their samples again.
import type { AckOut } from './ack-tracker.ts';

export class AckPacer {
  /** When each node was last sent an ack (ms); entries older than the interval are dropped. */
  private readonly lastSent = new Map<string, number>();
  /** The newest ack of each node held back, waiting for its interval to pass. */
  private readonly held = new Map<string, AckOut>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (ack: AckOut) => void,
    private readonly intervalMs: number,
  ) {
    if (!(intervalMs >= 0)) throw new RangeError(`ack interval must be 0 ms or more, got ${intervalMs}`);
  }

  /** Sends each ack now if its node has not had one within the interval, else holds it. */
  offer(acks: readonly AckOut[]): void {
    const now = Date.now();
    for (const ack of acks) {
      const last = this.lastSent.get(ack.node);
      if (last === undefined || now - last >= this.intervalMs) this.sendNow(ack, now);
      else this.held.set(ack.node, ack);
    }
    if (this.held.size > 0 && !this.timer) {
      // A quarter of the interval: a held ack goes out at most that late after it is due.
      this.timer = setInterval(() => this.tick(), Math.max(10, this.intervalMs / 4));
      this.timer.unref();
    }
  }

  /** Sends an ack now whatever the interval (an agent that just reported its spool waits for it). */
  sendAtOnce(ack: AckOut): void {
    this.sendNow(ack, Date.now());
  }

  /** Sends every held ack now (the hub is stopping: what it stored is acked before it exits). */
  flush(): void {
    const now = Date.now();
    for (const ack of this.held.values()) this.sendNow(ack, now);
    this.held.clear();
    this.stopTimer();
  }

  private sendNow(ack: AckOut, now: number): void {
    this.held.delete(ack.node);
    this.lastSent.set(ack.node, now);
    this.send(ack);
  }

  private tick(): void {
    const now = Date.now();
    for (const ack of this.held.values()) {
      if (now - this.lastSent.get(ack.node)! >= this.intervalMs) this.sendNow(ack, now);
    }
    // A node not acked within the interval is as good as new: forget it, so the map stays the size of the busy fleet.
    for (const [node, at] of this.lastSent) if (now - at >= this.intervalMs && !this.held.has(node)) this.lastSent.delete(node);
    if (this.held.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
