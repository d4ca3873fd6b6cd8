// Per-IP admission and the failed-CONNECT window, with time passed in; and the limits' setup check.
import { describe, expect, it } from 'vitest';
import { IpLimiter, isLoopback } from '../../broker/ip-limits.ts';
import { DEFAULT_LIMITS, resolveLimits } from '../../broker/limits.ts';

const options = { maxConnectionsPerIp: 2, maxFailedConnectsPerMinute: 3, failedConnectBlockMs: 10_000 };

describe('IpLimiter', () => {
  it('caps open connections per address, and frees a slot on release', () => {
    const l = new IpLimiter(options);
    expect(l.admit('10.0.0.1', 0)).toEqual({ ok: true });
    expect(l.admit('10.0.0.1', 0)).toEqual({ ok: true });
    expect(l.admit('10.0.0.1', 0)).toEqual({ ok: false, reason: 'too-many-connections' });
    expect(l.admit('10.0.0.2', 0)).toEqual({ ok: true }); // another address is not affected
    l.release('10.0.0.1');
    expect(l.admit('10.0.0.1', 0)).toEqual({ ok: true });
  });

  it('blocks an address over the failure cap for a while, then lets it in', () => {
    const l = new IpLimiter(options);
    const ip = '10.0.0.9';
    expect([1, 2, 3].map((t) => l.recordFailedConnect(ip, t))).toEqual([false, false, false]);
    expect(l.admit(ip, 4)).toEqual({ ok: true });
    l.release(ip);
    expect(l.recordFailedConnect(ip, 5)).toBe(true); // the 4th within a minute: blocked from now
    expect(l.recordFailedConnect(ip, 6)).toBe(false); // already blocked: reported once
    expect(l.admit(ip, 7)).toEqual({ ok: false, reason: 'blocked' });
    expect(l.admit('10.0.0.10', 7)).toEqual({ ok: true });
    expect(l.admit(ip, 6 + 10_000)).toEqual({ ok: true });
  });

  it('counts failures in a sliding minute', () => {
    const l = new IpLimiter(options);
    const ip = '2001:db8::1';
    for (const t of [0, 20_000, 40_000]) expect(l.recordFailedConnect(ip, t)).toBe(false);
    expect(l.recordFailedConnect(ip, 60_001)).toBe(false); // the one at 0 has left the window
    expect(l.recordFailedConnect(ip, 60_002)).toBe(true);
  });

  it('sweep forgets expired failures and blocks', () => {
    const l = new IpLimiter(options);
    for (let i = 0; i < 100; i++) l.recordFailedConnect(`10.1.0.${i}`, 0);
    for (let t = 0; t < 4; t++) l.recordFailedConnect('10.2.0.1', t);
    expect(l.trackedAddresses).toBe(101);
    l.sweep(5_000);
    expect(l.trackedAddresses).toBe(101); // nothing expired yet
    l.sweep(3 + 10_000);
    expect(l.trackedAddresses).toBe(100); // the block is over; the failures are still in their minute
    l.sweep(60_000);
    expect(l.trackedAddresses).toBe(0);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['2001:db8::1', false],
    ['1270:db8::1', false],
  ])('%s → %s', (ip, loopback) => expect(isLoopback(ip)).toBe(loopback));
});

describe('resolveLimits', () => {
  it('defaults, frozen', () => {
    const limits = resolveLimits();
    expect(limits).toEqual(DEFAULT_LIMITS);
    expect(limits.maxPacketBytes).toBe(262_144);
    expect(Object.isFrozen(limits)).toBe(true);
  });

  it('reports every bad value at once, with key and value', () => {
    expect(() => resolveLimits({ maxPacketBytes: 0, keepaliveLimitSec: 70_000, drainTimeoutMs: 1.5 })).toThrow(
      /maxPacketBytes .* got 0; keepaliveLimitSec .* got 70000; drainTimeoutMs .* got 1.5/,
    );
  });
});
