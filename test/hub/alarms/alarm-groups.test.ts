// Grouping of notifications as a table: transitions at given times (an injected clock, no sleeping)
// and the messages each channel gets, second by second.
import { describe, expect, it } from 'vitest';
import { AlarmGroups, type ChannelLimit, type GroupTiming } from '../../../hub/alarms/alarm-groups.ts';
import { renderText } from '../../../hub/alarms/channels/channel.ts';
import type { AlarmLevel, AlarmTransition } from '../../../shared/alarm-types.ts';

const S = 1000;
const TIMING: GroupTiming = { groupWaitMs: 10 * S, groupIntervalMs: 60 * S, repeatIntervalMs: 300 * S, sendResolved: true };

/** [second, rule, node, from, to] */
type Event = [number, string, string, AlarmLevel, AlarmLevel];

function run(events: Event[], untilS: number, options: { timing?: Partial<GroupTiming>; limit?: ChannelLimit; channels?: string[] } = {}): string[] {
  const groups = new AlarmGroups('https://hub.example:8080/', options.limit);
  const timing = { ...TIMING, ...options.timing };
  const channels = options.channels ?? ['ntfy://ntfy.example/fleet'];
  const out: string[] = [];
  let next = 0;
  for (let s = 0; s <= untilS; s++) {
    while (next < events.length && events[next]![0] <= s) {
      const [at, rule, node, from, to] = events[next++]!;
      const t: AlarmTransition = { ts_ms: at * S, node, rule_id: rule, subject: '', metric: 'disk_pct', from, to, value: 95, threshold: 90, tt_ms: null };
      groups.add(channels, { id: rule, metric: 'disk_pct', threshold: 90, description: null }, timing, t, at * S);
    }
    for (const { channel, message: m } of groups.flush(s * S)) {
      const names = (list: AlarmTransition[]) => list.map((t) => t.node).join(',');
      const prefix = channels.length > 1 ? `${channel.slice(0, 4)} ` : '';
      out.push(`${prefix}${s}s ${m.rule!.id} ${m.status}${m.repeat ? ' repeat' : ''} ${m.level} [${names(m.firing)}] resolved [${names(m.resolved)}] ${m.url}`);
    }
  }
  return out;
}

const burst = (n: number, spreadS: number, rule = 'disk'): Event[] =>
  Array.from({ length: n }, (_, i) => [Math.floor((i * spreadS) / n), rule, `pi-${i + 1}`, 'ok', 'red']);

describe('notification groups', () => {
  it.each<[string, Event[], number, Parameters<typeof run>[2], string[]]>([
    ['a burst is one message after the group wait', burst(3, 3), 40, {}, ['10s disk firing red [pi-1,pi-2,pi-3] resolved [] https://hub.example:8080/alarms']],
    ['one node links to its page', burst(1, 1), 40, {}, ['10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1']],
    [
      'a late joiner waits for the group interval',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [30, 'disk', 'pi-2', 'ok', 'amber'],
      ],
      100,
      {},
      [
        '10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '70s disk firing red [pi-1,pi-2] resolved [] https://hub.example:8080/alarms',
      ],
    ],
    [
      'a change long after the last message still gets its group wait',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [200, 'disk', 'pi-2', 'ok', 'red'],
      ],
      260,
      {},
      [
        '10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '210s disk firing red [pi-1,pi-2] resolved [] https://hub.example:8080/alarms',
      ],
    ],
    [
      'repeats while firing and nothing changes',
      [[0, 'disk', 'pi-1', 'ok', 'red']],
      700,
      {},
      [
        '10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '310s disk firing repeat red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '610s disk firing repeat red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
      ],
    ],
    [
      'resolves, then is quiet',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [20, 'disk', 'pi-1', 'red', 'ok'],
      ],
      700,
      {},
      [
        '10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '70s disk resolved ok [] resolved [pi-1] https://hub.example:8080/nodes/pi-1',
      ],
    ],
    [
      'one resolves while another still fires',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [1, 'disk', 'pi-2', 'ok', 'amber'],
        [20, 'disk', 'pi-1', 'red', 'ok'],
      ],
      100,
      {},
      [
        '10s disk firing red [pi-1,pi-2] resolved [] https://hub.example:8080/alarms',
        '70s disk firing amber [pi-2] resolved [pi-1] https://hub.example:8080/alarms',
      ],
    ],
    [
      'without send_resolved, a cleared group says nothing more',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [20, 'disk', 'pi-1', 'red', 'ok'],
      ],
      700,
      { timing: { sendResolved: false } },
      ['10s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1'],
    ],
    [
      'fired and cleared within the wait: told as resolved, not lost',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [5, 'disk', 'pi-1', 'red', 'ok'],
      ],
      100,
      {},
      ['10s disk resolved ok [] resolved [pi-1] https://hub.example:8080/nodes/pi-1'],
    ],
    [
      'no wait: at once',
      [
        [0, 'disk', 'pi-1', 'ok', 'red'],
        [1, 'disk', 'pi-1', 'red', 'ok'],
      ],
      10,
      { timing: { groupWaitMs: 0, groupIntervalMs: 0 } },
      [
        '0s disk firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '1s disk resolved ok [] resolved [pi-1] https://hub.example:8080/nodes/pi-1',
      ],
    ],
    [
      'the channel limit holds a message until there is room, gathering what comes meanwhile',
      [...burst(1, 1, 'a'), ...burst(1, 1, 'b'), ...burst(1, 1, 'c'), [30, 'c', 'pi-9', 'ok', 'red']],
      100,
      { limit: { count: 2, windowMs: 60 * S } },
      [
        '10s a firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '10s b firing red [pi-1] resolved [] https://hub.example:8080/nodes/pi-1',
        '70s c firing red [pi-1,pi-9] resolved [] https://hub.example:8080/alarms',
      ],
    ],
    [
      'each channel has its own group and limit',
      burst(2, 1),
      30,
      { channels: ['ntfy://a/t', 'slack://b/services/T/B/X'] },
      [
        'ntfy 10s disk firing red [pi-1,pi-2] resolved [] https://hub.example:8080/alarms',
        'slac 10s disk firing red [pi-1,pi-2] resolved [] https://hub.example:8080/alarms',
      ],
    ],
  ])('%s', (_name, events, untilS, options, expected) => {
    expect(run(events, untilS, options)).toEqual(expected);
  });

  it('300 nodes crossing within 20 s: one message in the first minute per channel, naming every node', () => {
    const messages = run(burst(300, 20), 60, { channels: ['ntfy://a/t', 'telegram://1:x@b?chats=1'] });
    expect(messages.map((m) => m.split(' [')[0])).toEqual(['ntfy 10s disk firing red', 'tele 10s disk firing red']);
    // The rest (crossed after the wait) go out together at the group interval: none lost.
    const all = run(burst(300, 20), 80);
    expect(all.map((m) => m.split(' [')[0])).toEqual(['10s disk firing red', '70s disk firing red']);
    expect(all[1]!.split('[')[1]!.split(']')[0]!.split(',')).toHaveLength(300);
  });

  it("renders a burst on one line per level, cut to a channel's limit without losing the count", () => {
    const groups = new AlarmGroups(null);
    for (let i = 1; i <= 12; i++) {
      const to: AlarmLevel = i <= 10 ? 'red' : 'amber';
      groups.add(
        ['x://h/t'],
        { id: 'disk', metric: 'disk_pct', threshold: 90, description: null },
        { ...TIMING, groupWaitMs: 0 },
        { ts_ms: 0, node: `pi-${i}`, rule_id: 'disk', subject: '', metric: 'disk_pct', from: 'ok', to, value: 95, threshold: 90, tt_ms: null },
        0,
      );
    }
    const [out] = groups.flush(0);
    const message = out!.message;
    expect(message.title).toBe('remonitor: 12 nodes disk RED');
    expect(renderText(message)).toBe(
      'RED 10 nodes: disk_pct over 90 — pi-1, pi-2, pi-3, pi-4, pi-5, pi-6, pi-7, pi-8, pi-9, pi-10\nAMBER 2 nodes: disk_pct predicted over 90 — pi-11, pi-12',
    );
    const short = renderText(message, 130);
    expect(short.length).toBeLessThanOrEqual(130);
    expect(short).toMatch(/^RED 10 nodes: disk_pct over 90 — pi-1, .* and \d+ more\nAMBER 2 nodes/);
  });
});

describe('when the hub stops', () => {
  it('tells what is untold, even before its wait, and repeats nothing already told', () => {
    const groups = new AlarmGroups(null);
    const rule = { id: 'disk', metric: 'disk_pct', threshold: 90, description: null };
    const red = (node: string): AlarmTransition => ({
      ts_ms: 0,
      node,
      rule_id: 'disk',
      subject: '',
      metric: 'disk_pct',
      from: 'ok',
      to: 'red',
      value: 95,
      threshold: 90,
      tt_ms: null,
    });
    groups.add(['a://told/t'], rule, TIMING, red('pi-1'), 0);
    expect(groups.flush(10 * S)).toHaveLength(1);
    groups.add(['b://untold/t'], rule, TIMING, red('pi-2'), 11 * S);
    expect(groups.flush(12 * S, true).map((m) => `${m.channel} ${m.message.firing.map((t) => t.node).join()}`)).toEqual(['b://untold/t pi-2']);
  });
});

describe('rules and nodes that go away', () => {
  const rule = { id: 'disk', metric: 'disk_pct', threshold: 90, description: null };
  const red = (node: string): AlarmTransition => ({
    ts_ms: 0,
    node,
    rule_id: 'disk',
    subject: '',
    metric: 'disk_pct',
    from: 'ok',
    to: 'red',
    value: 95,
    threshold: 90,
    tt_ms: null,
  });

  it('a group its rule no longer lists repeats no more', () => {
    const groups = new AlarmGroups(null);
    groups.add(['a://h/t', 'b://h/t'], rule, TIMING, red('pi-1'), 0);
    expect(groups.flush(10 * S)).toHaveLength(2);
    groups.retain((channel) => channel === 'a://h/t');
    expect(groups.flush(310 * S).map((m) => `${m.channel} ${m.message.repeat}`)).toEqual(['a://h/t true']);
  });

  it('a removed node leaves its groups without a word', () => {
    const groups = new AlarmGroups(null);
    groups.add(['a://h/t'], rule, TIMING, red('pi-1'), 0);
    groups.add(['a://h/t'], rule, TIMING, red('pi-2'), 0);
    expect(groups.flush(10 * S)).toHaveLength(1);
    groups.forgetNode('pi-1');
    expect(groups.flush(310 * S).map((m) => m.message.firing.map((t) => t.node).join())).toEqual(['pi-2']);
    groups.forgetNode('pi-2');
    expect(groups.nextDueMs()).toBeNull();
  });
});
