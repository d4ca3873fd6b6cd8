// The identities the hub gives JSON samples that come without one: seqs from 0 per node under one
// boot id per hub start, never repeated, even when the count of nodes passes its bound.
import { describe, expect, it } from 'vitest';
import { AssignedIdentities } from '../../hub/ingest/assigned-identity.ts';

describe('AssignedIdentities', () => {
  it('counts each node from 0 under one boot id, new for each hub start', () => {
    const ids = new AssignedIdentities();
    const a = [0, 1, 2].map(() => ids.assign('a'));
    const b = ids.assign('b');
    expect(a.map((x) => x.seq)).toEqual([0, 1, 2]);
    expect(a.map((x) => x.first)).toEqual([true, false, false]);
    expect(b).toEqual({ boot: a[0]!.boot, seq: 0, first: true });
    expect(a[0]!.boot).toMatch(/^hub-[0-9a-f]{12}$/);
    expect(new AssignedIdentities().assign('a').boot).not.toBe(a[0]!.boot);
  });

  it('past its bound of nodes starts a new boot id, so (node, boot, seq) never repeats', () => {
    const ids = new AssignedIdentities(2);
    const seen = new Set<string>();
    for (let round = 0; round < 5; round++) {
      for (const node of ['a', 'b', 'c']) {
        const { boot, seq } = ids.assign(node);
        const key = `${node}/${boot}/${seq}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
        expect(ids.made(boot)).toBe(true);
      }
    }
    expect(ids.made('hub-000000000000')).toBe(false);
    expect(ids.made('b0a7c3d2e1f40516')).toBe(false);
  });
});
