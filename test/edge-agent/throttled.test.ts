// The Raspberry Pi throttling collector. `vcgencmd` exists only on a Pi, so these tests put a stub
// script named vcgencmd on PATH in a temporary directory (a stand-in for the firmware tool).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createThrottledCollector, parseThrottled } from '../../edge-agent/collectors/throttled.ts';
import type { Reading } from '../../edge-agent/sampler.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

function stubVcgencmd(output: string): string {
  const dir = tempDir();
  const path = join(dir, 'vcgencmd');
  // Counts its runs in a file beside it, so the test can check the caching.
  writeFileSync(path, `#!/bin/sh\necho run >> "${dir}/runs"\necho '${output}'\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('throttled collector', () => {
  it.each([
    ['throttled=0x0', 0],
    ['throttled=0x50005\n', 0x50005],
    ['throttled=0x80008', 0x80008],
    ['error=1 error_msg="Command not registered"', undefined],
    ['', undefined],
  ])('parses %j', (text, expected) => {
    expect(parseThrottled(text)).toBe(expected);
  });

  it('reads the bits from the (stub) command, and runs it at most every `everyMs`', async () => {
    const command = stubVcgencmd('throttled=0x50005');
    const collector = createThrottledCollector({ command, everyMs: 30_000 });
    const readings: Reading[] = [];
    for (const t of [0, 1000, 2000]) {
      const out: Reading = {};
      await collector.collect(out, t);
      readings.push(out);
    }
    expect(readings.map((r) => r.throttled)).toEqual([0x50005, 0x50005, 0x50005]);
    const { readFileSync } = await import('node:fs');
    expect(
      readFileSync(join(command, '..', 'runs'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });

  it('leaves the field out where the command does not exist, and stops trying', async () => {
    const collector = createThrottledCollector({ command: join(tempDir(), 'no-vcgencmd-here'), everyMs: 0 });
    for (const t of [0, 1, 2, 3]) {
      const out: Reading = {};
      await collector.collect(out, t);
      expect(out.throttled).toBeUndefined();
    }
  });
});
