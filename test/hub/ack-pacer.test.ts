// Ack pacing on its own, with vitest's clock: a node is acked at most once per interval, the
// newest ack replaces the held one, nodes do not hold each other back, and a flush sends all.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckPacer } from '../../hub/ingest/ack-pacer.ts';
import type { AckOut } from '../../hub/ingest/ack-tracker.ts';

const ack = (node: string, next: number, boot = 'b1'): AckOut => ({ node, boot, next });

describe('AckPacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends a node its first ack at once, then the newest one per interval', () => {
    const sent: AckOut[] = [];
    const pacer = new AckPacer((a) => sent.push(a), 1000);
    pacer.offer([ack('a', 1)]);
    expect(sent).toEqual([ack('a', 1)]);
    vi.advanceTimersByTime(300);
    pacer.offer([ack('a', 4), ack('b', 2)]);
    vi.advanceTimersByTime(300);
    pacer.offer([ack('a', 7)]);
    expect(sent).toEqual([ack('a', 1), ack('b', 2)]); // b had no ack yet: not held back by a
    vi.advanceTimersByTime(400 + 250);
    expect(sent).toEqual([ack('a', 1), ack('b', 2), ack('a', 7)]); // 4 was replaced by 7
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(3); // nothing held, nothing sent again
  });

  it('sends at once again after a quiet interval', () => {
    const sent: AckOut[] = [];
    const pacer = new AckPacer((a) => sent.push(a), 1000);
    pacer.offer([ack('a', 1)]);
    vi.advanceTimersByTime(1500);
    pacer.offer([ack('a', 2)]);
    expect(sent.map((a) => a.next)).toEqual([1, 2]);
  });

  it('sends every held ack on flush (the hub stopping)', () => {
    const sent: AckOut[] = [];
    const pacer = new AckPacer((a) => sent.push(a), 5000);
    pacer.offer([ack('a', 1), ack('b', 1)]);
    pacer.offer([ack('a', 9), ack('b', 3, 'b2')]);
    pacer.flush();
    expect(sent).toEqual([ack('a', 1), ack('b', 1), ack('a', 9), ack('b', 3, 'b2')]);
  });

  it("counts an ack sent at once (an answer to a spool report) as the node's ack for the interval", () => {
    const sent: AckOut[] = [];
    const pacer = new AckPacer((a) => sent.push(a), 1000);
    pacer.sendAtOnce(ack('a', 5));
    pacer.offer([ack('a', 6)]);
    expect(sent.map((a) => a.next)).toEqual([5]);
    vi.advanceTimersByTime(1250);
    expect(sent.map((a) => a.next)).toEqual([5, 6]);
  });

  it('with an interval of 0, acks after every commit', () => {
    const sent: AckOut[] = [];
    const pacer = new AckPacer((a) => sent.push(a), 0);
    for (let i = 1; i <= 3; i++) pacer.offer([ack('a', i)]);
    expect(sent.map((a) => a.next)).toEqual([1, 2, 3]);
  });

  it('refuses a negative interval, saying so', () => {
    expect(() => new AckPacer(() => {}, -1)).toThrow(/ack interval must be 0 ms or more, got -1/);
  });
});
