// Per-address admission: how many connections one IP may hold, and how many refused CONNECTs it
// may collect per minute before new sockets from it are refused for a while. Pure bookkeeping:
// the caller passes the time (ms) in, so tests need no sleeping.

export interface IpLimitOptions {
  /** Open connections one address may hold at once. */
  maxConnectionsPerIp: number;
  /** Refused CONNECTs (CONNACK return code ≠ 0) one address may collect in a sliding minute. */
  maxFailedConnectsPerMinute: number;
  /** How long an address over the failure cap is refused new sockets, in ms. */
  failedConnectBlockMs: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'too-many-connections' | 'blocked' };

const MINUTE_MS = 60_000;

export class IpLimiter {
  private readonly open = new Map<string, number>();
  /** Times (ms) of recent refused CONNECTs, oldest first; at most the cap + 1 kept. */
  private readonly failures = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly options: IpLimitOptions) {}

  /** Decides on a new socket; an admitted one must be `release`d once when it closes. */
  admit(ip: string, nowMs: number): Admission {
    const until = this.blockedUntil.get(ip);
    if (until !== undefined) {
      if (nowMs < until) return { ok: false, reason: 'blocked' };
      this.blockedUntil.delete(ip);
    }
    const open = this.open.get(ip) ?? 0;
    if (open >= this.options.maxConnectionsPerIp) return { ok: false, reason: 'too-many-connections' };
    this.open.set(ip, open + 1);
    return { ok: true };
  }

  release(ip: string): void {
    const open = (this.open.get(ip) ?? 0) - 1;
    if (open > 0) this.open.set(ip, open);
    else this.open.delete(ip);
  }

  /** Records a refused CONNECT; true when this one put the address over the cap (now blocked). */
  recordFailedConnect(ip: string, nowMs: number): boolean {
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > nowMs - MINUTE_MS);
    recent.push(nowMs);
    if (recent.length > this.options.maxFailedConnectsPerMinute) {
      this.failures.delete(ip);
      const wasBlocked = (this.blockedUntil.get(ip) ?? 0) > nowMs;
      this.blockedUntil.set(ip, nowMs + this.options.failedConnectBlockMs);
      return !wasBlocked;
    }
    this.failures.set(ip, recent);
    return false;
  }

  /** Forgets expired failures and blocks so that many passing addresses do not pile up. */
  sweep(nowMs: number): void {
    for (const [ip, times] of this.failures) if (times.every((t) => t <= nowMs - MINUTE_MS)) this.failures.delete(ip);
    for (const [ip, until] of this.blockedUntil) if (until <= nowMs) this.blockedUntil.delete(ip);
  }

  /** Addresses with open connections, failures or blocks on record (for tests and stats). */
  get trackedAddresses(): number {
    return new Set([...this.open.keys(), ...this.failures.keys(), ...this.blockedUntil.keys()]).size;
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack listener reports IPv4). */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}
