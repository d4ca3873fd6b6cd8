// The layers of .dependency-cruiser.cjs hold in the tree (npm test runs the same check as `npm run
// lint`), and the rule is live: in a scratch tree, an import that runs the wrong way is refused.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from '../helpers/parts.ts';

const DEPCRUISE = join(REPO, 'node_modules/.bin/depcruise');
const CONFIG = join(REPO, '.dependency-cruiser.cjs');

/** depcruise's exit code and output for `dirs` under `cwd`. */
function cruise(cwd: string, dirs: string[]): { code: number; output: string } {
  try {
    return { code: 0, output: execFileSync(DEPCRUISE, ['--config', CONFIG, ...dirs], { cwd, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: e.stdout + e.stderr };
  }
}

describe('the layers', () => {
  it('hold in the tree', () => {
    const { code, output } = cruise(REPO, ['protocol', 'shared', 'edge-agent', 'auth', 'broker', 'hub', 'web', 'cli']);
    expect(output).toContain('no dependency violations');
    expect(code).toBe(0);
  }, 60_000);

  it.each([
    ['hub', 'web', 'the hub never imports the web tier or the agent'],
    ['hub', 'edge-agent', 'the hub never imports the web tier or the agent'],
    ['protocol', 'shared', 'the wire contract stands alone'],
    ['edge-agent', 'hub', 'the agent bundle takes only protocol/ and shared/'],
    ['web/client', 'hub', 'pages run in the browser'],
    ['hub/storage/postgres', 'hub/storage/sqlite', 'the two storage backends apart'],
    ['hub/ingest', 'hub/storage/sqlite', 'features on the storage contract'],
    ['hub/storage', 'hub/alarms', 'storage below the features'],
  ])(
    'refuse %s → %s',
    (from, to) => {
      const root = tempDir('remonitor-layers-');
      mkdirSync(join(root, from), { recursive: true });
      mkdirSync(join(root, to), { recursive: true });
      writeFileSync(join(root, to, 'target.ts'), 'export const x = 1;\n');
      const up = from
        .split('/')
        .map(() => '..')
        .join('/');
      writeFileSync(join(root, from, 'source.ts'), `import { x } from '${up}/${to}/target.ts';\nexport const y = x;\n`);
      writeFileSync(join(root, 'tsconfig.json'), '{}');
      const { code, output } = cruise(root, [from.split('/')[0]!, to]);
      expect(code).not.toBe(0);
      expect(output).toContain(`${from}/source.ts → ${to}/target.ts`);
    },
    60_000,
  );
});
