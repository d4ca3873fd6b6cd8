// README's configuration reference is generated from the option specs; this holds them together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS, withReference } from '../../scripts/config-reference.ts';
import { envName } from '../../shared/options.ts';
import { REPO } from '../helpers/parts.ts';

describe('README configuration reference', () => {
  it('lists every option of every command, as the specs say', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme, 'README.md is out of date: run `node scripts/run-ts.mjs scripts/config-reference.ts --write`').toBe(withReference(readme));
    for (const [, spec] of COMMAND_SPECS) for (const o of Object.values(spec)) expect(readme).toContain(`\`${envName(o.flag)}\``);
  });
});
