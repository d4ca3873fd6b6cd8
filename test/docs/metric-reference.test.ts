// README's metric reference is generated from the registry; this holds them together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_SPECS } from '../../protocol/metrics.ts';
import { withMetricReference } from '../../scripts/metric-reference.ts';
import { REPO } from '../helpers/parts.ts';

describe('README metric reference', () => {
  it('lists every metric of the registry, as the registry says', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme, 'README.md is out of date: run `node scripts/run-ts.mjs scripts/metric-reference.ts --write`').toBe(withMetricReference(readme));
    for (const m of METRIC_SPECS) expect(readme).toContain(`| \`${m.name}\` |`);
  });
});
