// The broker's limits against abuse, with defaults that a fleet of 10,000 honest nodes never
// reaches, checked once at setup: every bad value is reported at once, with its key and value.
import type { IpLimitOptions } from './ip-limits.ts';

export interface BrokerLimits extends IpLimitOptions {
  /**
   * Largest MQTT packet accepted, fixed header included, in bytes; a client declaring a larger one
   * is disconnected before its body is read. A sample is a few hundred bytes of CBOR and a process
   * list a few KB: 256 KB leaves two orders of magnitude of headroom.
   */
  maxPacketBytes: number;
  /** A socket must send CONNECT within this many ms, or it is closed (Aedes `connectTimeout`). */
  connectTimeoutMs: number;
  /**
   * Largest keepalive a client may ask for, in seconds; more, or 0 (never), is refused with CONNACK
   * (Aedes `keepaliveLimit`) so a half-open connection is always found within 1.5× this.
   */
  keepaliveLimitSec: number;
  /**
   * How long a write to one client may wait for its socket to drain, in ms, before that client is
   * disconnected (Aedes `drainTimeout`). Aedes completes a message only once every subscriber took
   * it, so until then a subscriber that stopped reading holds up delivery to everyone.
   */
  drainTimeoutMs: number;
  /** Inbound QoS 2 messages one client may have awaiting PUBREL (Aedes `maxInflightInbound`). */
  maxInflightInbound: number;
  /** Packets one client may queue before its CONNECT is processed (Aedes `queueLimit`). */
  queueLimit: number;
  /**
   * Apply the per-IP caps to loopback too. Off by default: the local agent and hub, benches and a
   * reverse proxy in front of the WebSocket all share 127.0.0.1, and whoever connects from
   * loopback already runs code on this host. The size cap and timeouts apply to everyone.
   */
  ipLimitsOnLoopback: boolean;
  /**
   * Most topics holding a retained message; a retained publish on a new topic past it is delivered
   * but not retained (logged). Aedes keeps every retained message in memory, so without a cap one
   * client could grow the broker without bound.
   */
  maxRetained: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxPacketBytes: 256 * 1024,
  // Honest clients send CONNECT right after the TCP (or WebSocket) handshake: 10 s covers a slow
  // cellular link, and bounds how long an idle socket holds a file descriptor.
  connectTimeoutMs: 10_000,
  // Our agent asks for 30 s and common clients 60 s; an hour still suits sleepy battery devices.
  keepaliveLimitSec: 3600,
  // A subscriber making any progress drains well within this; a stalled one freezes the others
  // for at most this long. The hub's worst event-loop stall (bench/hub-stall.ts) is far below.
  drainTimeoutMs: 10_000,
  // Our clients publish QoS 0/1; 100 QoS 2 messages awaiting PUBREL is already a generous window.
  maxInflightInbound: 100,
  queueLimit: 42, // Aedes' own default, stated so it is visible
  // A site behind one NAT with hundreds of nodes stays under this; one address opening thousands
  // of sockets does not.
  maxConnectionsPerIp: 200,
  // A node with a wrong credential retries with backoff, a few times a minute; 30 lets several of
  // them share one NAT address and still holds a guesser to 30 tries a minute.
  maxFailedConnectsPerMinute: 30,
  failedConnectBlockMs: 60_000,
  ipLimitsOnLoopback: false,
  // Each node keeps two retained topics (status and info): 10,000 nodes hold 20,000, plus the hub's
  // Home Assistant discovery configs. 100,000 leaves room for that and still caps memory (~ tens of MB).
  maxRetained: 100_000,
});

const RANGES: Record<Exclude<keyof BrokerLimits, 'ipLimitsOnLoopback'>, [min: number, max: number]> = {
  maxPacketBytes: [2, 268_435_460], // a bare fixed header .. the MQTT maximum [MQTT-2.2.3]
  connectTimeoutMs: [1, 3_600_000],
  keepaliveLimitSec: [1, 65_535], // keepalive is a 16-bit field [MQTT-3.1.2.10]
  drainTimeoutMs: [1, 3_600_000],
  maxInflightInbound: [1, 65_535],
  queueLimit: [1, 100_000],
  maxConnectionsPerIp: [1, 1_000_000],
  maxFailedConnectsPerMinute: [1, 1_000_000],
  failedConnectBlockMs: [0, 86_400_000],
  maxRetained: [0, 100_000_000],
};

/** Defaults overlaid with `overrides`, frozen; throws a TypeError listing every bad value. */
export function resolveLimits(overrides: Partial<BrokerLimits> = {}): Readonly<BrokerLimits> {
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...overrides };
  const problems: string[] = [];
  for (const [key, [min, max]] of Object.entries(RANGES)) {
    const value = limits[key as keyof typeof RANGES];
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${key} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  if (typeof limits.ipLimitsOnLoopback !== 'boolean') problems.push(`ipLimitsOnLoopback must be a boolean, got ${String(limits.ipLimitsOnLoopback)}`);
  if (problems.length > 0) throw new TypeError(`broker limits: ${problems.join('; ')}`);
  return Object.freeze(limits);
}
