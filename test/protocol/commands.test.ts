// Commands and watch samples on the wire (protocol/commands.ts, protocol/procs.ts).
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeCommand, decodeReply, detectEncoding, encodeCommand, encodeReply, parseTarget } from '../../protocol/commands.ts';
import { decodeProcs, encodeProcs, procsTotals, type ProcsSample } from '../../protocol/procs.ts';

const json = (text: string) => Buffer.from(text);

describe('commands', () => {
  it.each([
    ['{"id":"a","action":"ping"}', { id: 'a', action: 'ping' }],
    [' \n{"id":"a","action":"interval","interval":"2s"}', { id: 'a', action: 'interval', interval_ms: 2000 }],
    ['{"id":"a","action":"interval","interval_ms":250}', { id: 'a', action: 'interval', interval_ms: 250 }],
    [
      '{"id":"a","action":"watch","session":"s","name":"nginx"}',
      { id: 'a', action: 'watch', session: 's', target: { kind: 'name', name: 'nginx' }, interval_ms: 1000 },
    ],
    [
      '{"id":"a","action":"watch","session":"s","pid":"42","interval":"500ms"}',
      { id: 'a', action: 'watch', session: 's', target: { kind: 'pid', pid: 42 }, interval_ms: 500 },
    ],
    [
      '{"id":"a","action":"watch","session":"s","target":"cmd:app.js"}',
      { id: 'a', action: 'watch', session: 's', target: { kind: 'cmdline', pattern: 'app.js' }, interval_ms: 1000 },
    ],
    ['{"id":"a","action":"unwatch","session":"s"}', { id: 'a', action: 'unwatch', session: 's' }],
  ])('reads %s', (text, command) => {
    expect(decodeCommand(json(text))).toEqual({ encoding: 'json', command });
  });

  it.each([
    ['', null, 'empty payload: expected a CBOR or JSON map with "id" and "action"'],
    ['{"action":"ping"}', null, '"id" must be a text of 1 to 64 characters, got nothing'],
    ['[1,2]', null, 'payload must be a map with "id" and "action", got an array of 2'],
    ['{"id":"x","action":"fly"}', 'x', '"action" "fly" is unknown; known actions: start, stop, interval, watch, unwatch, snapshot, ping'],
    ['{"id":"x","action":"interval","interval":"2h"}', 'x', 'interval: interval 2h is out of bounds: it must be between 250ms and 1h'],
    ['{"id":"x","action":"watch","session":"s","pid":1,"name":"a"}', 'x', 'watch: give only one of "pid", "name"'],
    ['{"id":"x","action":"watch","session":"a b","pid":1}', 'x', 'watch: "session" must be 1–64 of A-Za-z0-9._-, got "a b"'],
    ['{"id":"x","action":"watch","session":"s","pid":-3}', 'x', 'watch: "pid" must be a positive integer, got number -3'],
    [
      '{"id":"x","action":"watch","session":"a b","pid":"0","interval":"1ms"}',
      'x',
      'watch: "session" must be 1–64 of A-Za-z0-9._-, got "a b"; interval 1ms is out of bounds: it must be between 250ms and 1h; "pid" must be a positive integer, got number 0',
    ],
    ['{"id":"","action":"unwatch"}', null, '"id" must be a text of 1 to 64 characters, got ""; unwatch: "session" must be 1–64 of A-Za-z0-9._-, got nothing'],
    ['{"id":"x","action":"watch","session":"s","pid":"nginx"}', 'x', 'watch: "pid" must be a positive integer, got "nginx"'],
    ['{"id":"x","action":"interval"}', 'x', 'interval: needs "interval_ms" (a number of ms) or "interval" (like "500ms", "5s")'],
    ['{"id":"x","action":"watch","session":"s"}', 'x', 'watch: needs one of "pid", "name", "cmdline" or "target" to say which processes to follow'],
    ['{"id":"x","action":"watch","session":"s","target":"pid:x"}', 'x', 'watch: target "pid:x": pid must be a positive integer'],
  ])('refuses %s', (text, id, message) => {
    expect(() => decodeCommand(json(text))).toThrowError(message);
    try {
      decodeCommand(json(text));
    } catch (err) {
      expect((err as { id: string | null }).id).toBe(id);
    }
  });

  it('round-trips CBOR commands and replies, in the encoding asked for', () => {
    const cmd = encodeCommand({ id: 'c', action: 'watch', session: 's', target: { kind: 'pid', pid: 7 }, interval_ms: 500 });
    expect(detectEncoding(cmd)).toBe('cbor');
    expect(decodeCommand(cmd).command).toEqual({ id: 'c', action: 'watch', session: 's', target: { kind: 'pid', pid: 7 }, interval_ms: 500 });
    // A CBOR map with text keys from any other encoder reads the same.
    const foreign = new Encoder({ mapsAsObjects: false, useRecords: false }).encode(
      new Map([
        ['id', 'f'],
        ['action', 'ping'],
      ]),
    );
    expect(decodeCommand(foreign).command).toEqual({ id: 'f', action: 'ping' });
    for (const encoding of ['cbor', 'json'] as const) {
      const reply = { id: 'c', ok: true as const, result: { paused: false, watches: ['s'], nested: { a: 1 } } };
      const bytes = encodeReply(reply, encoding);
      expect(detectEncoding(bytes)).toBe(encoding);
      expect(decodeReply(bytes)).toEqual(reply);
    }
    expect(decodeReply(encodeReply({ id: null, ok: false, error: 'bad' }, 'cbor'))).toEqual({ id: null, ok: false, error: 'bad' });
  });

  it('reads targets as people write them', () => {
    expect(parseTarget('1234')).toEqual({ kind: 'pid', pid: 1234 });
    expect(parseTarget('nginx')).toEqual({ kind: 'name', name: 'nginx' });
    expect(parseTarget('cmdline:node server.js')).toEqual({ kind: 'cmdline', pattern: 'node server.js' });
    expect(parseTarget('pid:')).toBe('target "pid:" names no pid');
  });
});

describe('watch samples', () => {
  const sample: ProcsSample = {
    v: 1,
    session: 's-1',
    seq: 3,
    ts_ms: 1_764_000_000_123,
    target: 'name:app',
    interval_ms: 500,
    procs: [
      {
        pid: 10,
        name: 'app',
        rss_bytes: 100 << 20,
        vsize_bytes: 400 << 20,
        cpu_pct: 12.5,
        threads: 4,
        rss_anon_bytes: 80 << 20,
        rss_file_bytes: 20 << 20,
        swap_bytes: 0,
        exited: false,
      },
      {
        pid: 11,
        name: 'app',
        rss_bytes: 50 << 20,
        vsize_bytes: 200 << 20,
        cpu_pct: null,
        threads: 1,
        rss_anon_bytes: null,
        rss_file_bytes: null,
        swap_bytes: null,
        exited: true,
      },
    ],
    ended: true,
  };

  it('round-trips and sums the live processes', () => {
    expect(decodeProcs(encodeProcs(sample))).toEqual(sample);
    expect(procsTotals(sample.procs)).toEqual({
      rss_bytes: 100 << 20,
      rss_anon_bytes: 80 << 20,
      rss_file_bytes: 20 << 20,
      swap_bytes: 0,
      vsize_bytes: 400 << 20,
      cpu_pct: 12.5,
      count: 1,
    });
  });

  it('refuses a newer version and a short row, saying where', () => {
    expect(() => decodeProcs(encodeProcs({ ...sample, v: 2 }))).toThrowError('procs: unsupported version 2, this side understands up to 1');
    const bad = new Encoder({ mapsAsObjects: false, useRecords: false }).encode(
      new Map<number, unknown>([
        [0, 1],
        [1, 's'],
        [2, 0],
        [3, 1],
        [6, [[1, 'x']]],
      ]),
    );
    expect(() => decodeProcs(bad)).toThrowError('procs: procs[0] must be an array of 10 items');
  });
});
