// `remonitor record` on real processes: a program that leaks and one that allocates in a sawtooth.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_LEAK, EXIT_MAX_RSS } from '../../cli/record.ts';
import { CLI, REPO, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const LEAKER = join(REPO, 'test/fixtures/programs/leaker.mjs');
const SAWTOOTH = join(REPO, 'test/fixtures/programs/sawtooth.mjs');
// glibc keeps freed 2 MiB blocks in its heap once its mmap threshold has grown; a fixed low
// threshold makes each free go back to the kernel, so RSS really falls after each collection.
const SAW_COMMAND = ['env', 'MALLOC_MMAP_THRESHOLD_=65536', process.execPath, '--expose-gc', SAWTOOTH];

/** Gone: no such process, or a zombie left for init to reap (it no longer runs). */
function isGone(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}

async function record(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = spawnProcess(process.execPath, [CLI, 'record', ...args]);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

describe('remonitor record', () => {
  it('fails a leaking program with --fail-on-leak, and writes the JSON and HTML reports', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.json');
    const html = join(dir, 'report.html');
    const { code, output } = await record(['--interval', '250ms', '--fail-on-leak', '--out', out, '--html', html, '--', process.execPath, LEAKER]);
    expect(code, output).toBe(EXIT_LEAK);
    expect(output).toMatch(/remonitor record: leak suspected: peak RSS [\d.]+ MiB, slope [\d.]+ MB\/h/);
    expect(output).toMatch(/FAILED: leak suspected .* exiting 86/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.analysis.verdict).toBe('leak suspected');
    expect(report.exit_code).toBe(0);
    expect(report.samples.length).toBeGreaterThanOrEqual(10);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('leak suspected');
    expect(page).not.toMatch(/<script|src="|href="/); // self-contained: nothing to fetch
  });

  it('passes a sawtooth program with --fail-on-leak', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.json');
    const { code, output } = await record(['--interval', '250ms', '--fail-on-leak', '--out', out, '--', ...SAW_COMMAND]);
    expect(code, output).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    // Not a leak. Over 5 teeth its fitted line can still rise by the growth that counts (the phase
    // of the first and last tooth): that reads "growing", never "no leak" beside such a slope.
    expect(['no leak', 'growing'], report.analysis.reason).toContain(report.analysis.verdict);
    // It really was a sawtooth: RSS fell back by more than 8 MiB at least twice.
    const rss: number[] = report.samples.map((s: { rss_bytes: number }) => s.rss_bytes);
    const drops = rss.filter((v, i) => i > 0 && rss[i - 1]! - v > 8 * 1024 * 1024).length;
    expect(drops).toBeGreaterThanOrEqual(2);
  });

  it("exits with the command's own code", async () => {
    expect((await record(['--quiet', '--', process.execPath, '-e', 'setTimeout(() => process.exit(3), 300)'])).code).toBe(3);
  });

  it('stops the command and its children as soon as --max-rss is passed, and still writes the report', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.json');
    const pidFile = join(dir, 'leaker.pid');
    // The leaker is a grandchild (under sh) that would leak for 10 minutes and then print "after"; only
    // being stopped ends it before the test's timeout.
    const script = `${process.execPath} ${LEAKER} & echo $! > ${pidFile}; wait; echo after`;
    const p = spawnProcess(process.execPath, [CLI, 'record', '--quiet', '--interval', '250ms', '--max-rss', '40MB', '--out', out, '--', 'sh', '-c', script], {
      env: { LEAK_MS: '600000' },
    });
    const { code } = await p.exited;
    const output = p.output();
    expect(code, output).toBe(EXIT_MAX_RSS);
    expect(output).toMatch(/RSS [\d.]+ MiB passed --max-rss 40\.0 MiB after [\d.]+ s: stopping the command/);
    expect(output).toMatch(/FAILED: RSS [\d.]+ MiB passed --max-rss 40\.0 MiB after [\d.]+ s; the command was stopped; exiting 87/);
    expect(output).not.toMatch(/leaker: kept|^after$/m);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.breach.kind).toBe('max-rss');
    expect(report.record_exit_code).toBe(EXIT_MAX_RSS);
    expect(report.samples.length).toBeGreaterThan(0);
    expect(report.peak_rss_bytes).toBeGreaterThan(40 * 1024 * 1024);
    // Stopped, not finished: the breach comes before the end, and the leaker is gone too.
    expect(report.breach.at_ms).toBeLessThanOrEqual(report.ended_ms);
    const leakerPid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(`the leaker (pid ${leakerPid}) to be gone`, () => isGone(leakerPid), 5000);
  });

  it('refuses a missing command and a bad size, saying which', async () => {
    const none = await record(['--fail-on-leak']);
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/no command to record: put it after "--"/);
    const bad = await record(['--max-rss', 'lots', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/--max-rss: must be a size such as 512MB.*\(got "lots"\)/);
    expect(existsSync(join(REPO, 'report.json'))).toBe(false);
  });
});
