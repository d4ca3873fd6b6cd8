// The birth record's `tags`: the syntax of a tag as a table, the record carrying them, and a record
// whose tags break the syntax refused with the field and the bad tag named.
import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { combineTags, decodeInfo, encodeInfo, ProtocolError, splitTags, tagListProblems, tagProblem, type NodeInfo } from '../../protocol/index.ts';

const info: NodeInfo = {
  v: 1,
  agent_version: '0.1.0',
  hostname: 'pi-4',
  os: 'Debian',
  kernel: '6.6',
  arch: 'arm64',
  cpu_model: 'A72',
  cpu_cores: 4,
  mem_total_bytes: 1,
  disks: [],
  boot_time_ms: 1,
  interval_ms: 5000,
};

describe('tag syntax', () => {
  it.each<[unknown, RegExp | null]>([
    ['ci', null],
    ['room:kitchen', null],
    ['site-b', null],
    ['a', null],
    ['v1.2_x', null],
    ['x'.repeat(64), null],
    ['x'.repeat(65), /65 characters long, the limit is 64/],
    ['', /empty/],
    ['Kitchen', /"Kitchen" must be lowercase/],
    ['-ci', /"-ci" must be lowercase/],
    ['has space', /"has space"/],
    ['a,b', /"a,b"/],
    [7, /must be text, got number/],
  ])('%j → %s', (tag, problem) => {
    const p = tagProblem(tag);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toMatch(problem);
  });

  it('checks a list: every bad tag, and the count', () => {
    expect(tagListProblems(['ok', 'Bad', 'also bad'])).toHaveLength(2);
    expect(tagListProblems(Array.from({ length: 33 }, (_, i) => `t${i}`))).toEqual(['at most 32 tags, got 33']);
    expect(tagListProblems('ci')).toEqual(['tags must be a list of words, got "ci"']);
  });

  it('splits a flag value and combines the two sources, each tag once, sorted', () => {
    expect(splitTags(' ci, room:kitchen,,ci ')).toEqual(['ci', 'room:kitchen']);
    expect(splitTags('')).toEqual([]);
    expect(combineTags(['site-b', 'ci'], ['ci', 'attic'])).toEqual(['attic', 'ci', 'site-b']);
    expect(combineTags(undefined, undefined)).toEqual([]);
  });
});

describe('the birth record carries tags', () => {
  it('round-trips them, and leaves them out when there are none', () => {
    expect(decodeInfo(encodeInfo({ ...info, tags: ['ci', 'room:kitchen'] })).tags).toEqual(['ci', 'room:kitchen']);
    expect('tags' in decodeInfo(encodeInfo(info))).toBe(false);
  });

  it.each<[string, unknown, RegExp]>([
    ['not a list', 'ci', /^info: "tags": tags must be a list/],
    ['a bad tag', ['ci', 'Room Kitchen'], /^info: "tags": tag "Room Kitchen" must be lowercase/],
    ['a number', [1], /^info: "tags": a tag must be text, got number/],
  ])('refuses %s, naming the field', (_, tags, message) => {
    const wire = new Map<string, unknown>([...Object.entries(info), ['tags', tags]]);
    let err: unknown;
    try {
      decodeInfo(encode(wire));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).message).toMatch(message);
    expect((err as ProtocolError).field).toBe('tags');
  });
});
