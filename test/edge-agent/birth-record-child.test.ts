// The bundle's birth record, read by a child process running the bundle, and the in-process
// fallback when that child fails.
import { writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBirthRecordInChild } from '../../edge-agent/birth-record-child.ts';
import { REPO, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const BUNDLE = join(REPO, 'dist/remonitor-agent.mjs');

describe('birth record in a child process', () => {
  it('comes from the agent bundle run as a child, with this agent interval', async () => {
    const warnings: string[] = [];
    const record = await readBirthRecordInChild(BUNDLE, 1500, '9.9.9', (msg) => warnings.push(msg));
    expect(warnings).toEqual([]);
    expect(record).toMatchObject({ hostname: hostname(), cpu_cores: cpus().length, mem_total_bytes: totalmem(), interval_ms: 1500 });
    expect(record.disks.length).toBeGreaterThan(0);
  });

  it('is read in this process, with a warning that says why, when the child fails or prints something else', async () => {
    const dir = tempDir('remonitor-birth-');
    const crashes = join(dir, 'crashes.mjs');
    writeFileSync(crashes, 'process.exit(3)');
    const babbles = join(dir, 'babbles.mjs');
    writeFileSync(babbles, 'console.log("<html>not found</html>")');
    for (const [script, why] of [
      [crashes, /Command failed/],
      [babbles, /Unexpected token|not a birth record/],
    ] as const) {
      const warnings: string[] = [];
      const record = await readBirthRecordInChild(script, 2000, '9.9.9', (msg) => warnings.push(msg));
      expect(record).toMatchObject({ hostname: hostname(), agent_version: '9.9.9', interval_ms: 2000, mem_total_bytes: totalmem() });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^birth record: the child process failed \(/);
      expect(warnings[0]).toMatch(why);
    }
  });
});
