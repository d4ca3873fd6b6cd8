// The topic map: node-name rules, builders, the parser and the status payload, as tables.
import { describe, expect, it } from 'vitest';
import { assertNodeName, CHANNELS, nodeNameProblem, nodeTopic, parseStatus, parseTopic, topics, type Channel } from '../../protocol/index.ts';

const x64 = 'x'.repeat(64);

describe('node names', () => {
  it.each(['pi-4.kitchen_1', 'a', 'NAS', '0', x64, '...', 'A-Z.a_z-09'])('%s is valid', (name) => {
    expect(nodeNameProblem(name)).toBeNull();
    expect(() => assertNodeName(name)).not.toThrow();
  });

  it.each<[string, unknown, string]>([
    // [case, name, the problem as reported]
    ['empty', '', 'node name is empty'],
    ['65 characters', `${x64}y`, `node name "${'x'.repeat(20)}…" is 65 characters long, the limit is 64`],
    ['a space', 'pi 4', 'node name "pi 4" contains " "; allowed are A-Z a-z 0-9 . _ -'],
    ['a slash, a topic level', 'pi/4', 'node name "pi/4" contains "/"; allowed are A-Z a-z 0-9 . _ -'],
    ['the + wildcard', '+', 'node name "+" contains "+"; allowed are A-Z a-z 0-9 . _ -'],
    ['the # wildcard', 'pi#', 'node name "pi#" contains "#"; allowed are A-Z a-z 0-9 . _ -'],
    ['a non-ASCII letter', 'küche', 'node name "küche" contains "ü"; allowed are A-Z a-z 0-9 . _ -'],
    ['an emoji', 'pi🍓', 'node name "pi🍓" contains "🍓"; allowed are A-Z a-z 0-9 . _ -'],
    ['a newline', 'pi\n', 'node name "pi\n" contains "\\n"; allowed are A-Z a-z 0-9 . _ -'],
    ['a NUL', 'pi\0', 'node name "pi\0" contains "\\u0000"; allowed are A-Z a-z 0-9 . _ -'],
    ['not a string', 42, 'node name must be a string, got number'],
    ['undefined', undefined, 'node name must be a string, got undefined'],
  ])('%s is refused, naming the problem', (_, name, problem) => {
    expect(nodeNameProblem(name)).toBe(problem);
    expect(() => assertNodeName(name)).toThrow(new TypeError(problem));
  });
});

describe('topic builders', () => {
  it.each(CHANNELS.map((c) => [c]))('topics.%s(node) is remonitor/<node>/<channel>', (channel) => {
    expect(topics[channel]('pi-4.kitchen_1')).toBe(`remonitor/pi-4.kitchen_1/${channel}`);
    expect(nodeTopic('pi-4.kitchen_1', channel)).toBe(`remonitor/pi-4.kitchen_1/${channel}`);
  });

  it('builds the all-nodes wildcard for a channel', () => {
    expect(topics.allNodes('metrics')).toBe('remonitor/+/metrics');
    expect(topics.allNodes('status')).toBe('remonitor/+/status');
  });

  it.each(['', '+', '#', 'pi/4', 'a/+/b', 'pi 4'])('refuses to build a topic for node %j (no wildcard or level injection)', (node) => {
    expect(() => topics.metrics(node)).toThrow(TypeError);
    expect(() => nodeTopic(node, 'status')).toThrow(TypeError);
  });
});

describe('parseTopic', () => {
  it.each<[string, { node: string; channel: Channel } | null]>([
    ['remonitor/pi-4/metrics', { node: 'pi-4', channel: 'metrics' }],
    ['remonitor/pi-4.kitchen_1/status', { node: 'pi-4.kitchen_1', channel: 'status' }],
    [`remonitor/${x64}/info`, { node: x64, channel: 'info' }],
    ['remonitor/NAS/alarms', { node: 'NAS', channel: 'alarms' }],
    // foreign roots
    ['other/pi-4/metrics', null],
    ['Remonitor/pi-4/metrics', null],
    ['/remonitor/pi-4/metrics', null],
    ['$SYS/broker/uptime', null],
    // wrong number of levels
    ['remonitor/pi-4/metrics/extra', null],
    ['remonitor/pi-4/metrics/', null],
    ['remonitor/pi-4', null],
    ['remonitor', null],
    ['', null],
    // bad node names
    ['remonitor//metrics', null],
    ['remonitor/+/metrics', null],
    ['remonitor/#/metrics', null],
    ['remonitor/pi 4/metrics', null],
    ['remonitor/küche/metrics', null],
    [`remonitor/${x64}y/metrics`, null],
    // unknown channels
    ['remonitor/pi-4/bogus', null],
    ['remonitor/pi-4/Metrics', null],
    ['remonitor/pi-4/', null],
    ['remonitor/pi-4/+', null],
  ])('%j → %j', (topic, parsed) => {
    expect(parseTopic(topic)).toEqual(parsed);
  });

  it.each(CHANNELS.map((c) => [c]))('parses back what topics.%s built', (channel) => {
    expect(parseTopic(topics[channel]('ci-runner-07'))).toEqual({ node: 'ci-runner-07', channel });
  });
});

describe('parseStatus', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it.each<[string, Uint8Array, 'online' | 'offline' | null]>([
    ['online', utf8('online'), 'online'],
    ['offline (the last will)', utf8('offline'), 'offline'],
    ['surrounding whitespace', utf8(' online\n'), 'online'],
    ['upper case', utf8('ONLINE'), null],
    ['empty (a cleared retained message)', new Uint8Array(0), null],
    ['another word', utf8('online-ish'), null],
    ['JSON', utf8('{"status":"online"}'), null],
    ['CBOR text "online"', Uint8Array.from([0x66, ...utf8('online')]), null],
    ['invalid UTF-8', Uint8Array.from([0xff, 0xfe]), null],
  ])('%s → %s', (_, payload, status) => {
    expect(parseStatus(payload)).toBe(status);
  });
});
