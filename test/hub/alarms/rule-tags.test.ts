// A rule's `tags` target: validated with every problem at its field, and combined with `nodes` and
// `node_pattern` so that a node must match every target the rule gives.
import { describe, expect, it } from 'vitest';
import { compileRule, ruleAppliesTo, validateRule } from '../../../hub/alarms/rules.ts';

describe('rule tags', () => {
  it.each<[string, unknown, string[]]>([
    ['a valid list', ['ci', 'room:kitchen'], []],
    ['not a list', 'ci', ['tags']],
    ['an empty list', [], ['tags']],
    ['bad tags, each at its index', ['ok', 'Not OK', 3], ['tags[1]', 'tags[2]']],
  ])('%s', (_, tags, fields) => {
    expect(validateRule({ id: 'a', metric: 'cpu_pct', threshold: 80, tags }).map((p) => p.field)).toEqual(fields);
  });

  it.each<[string, object, string, string[], boolean]>([
    ['tags only: a tagged node', { tags: ['ci', 'lab'] }, 'x', ['lab'], true],
    ['tags only: an untagged node', { tags: ['ci'] }, 'x', [], false],
    ['tags only: other tags', { tags: ['ci'] }, 'x', ['cid', 'room:ci'], false],
    ['tags and pattern: both match', { tags: ['ci'], node_pattern: 'pi-*' }, 'pi-1', ['ci'], true],
    ['tags and pattern: the tag only', { tags: ['ci'], node_pattern: 'pi-*' }, 'nas', ['ci'], false],
    ['tags and pattern: the name only', { tags: ['ci'], node_pattern: 'pi-*' }, 'pi-1', [], false],
    ['tags and nodes: both match', { tags: ['ci'], nodes: ['nas'] }, 'nas', ['ci'], true],
    ['no targets: any node', {}, 'x', [], true],
  ])('%s', (_, targets, node, nodeTags, applies) => {
    const rule = compileRule({ id: 'r', metric: 'cpu_pct', threshold: 80, ...targets });
    expect(ruleAppliesTo(rule, node, nodeTags)).toBe(applies);
  });
});
