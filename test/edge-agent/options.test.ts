import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSpec } from '../../edge-agent/main.ts';
import { OptionsError, resolveOptions, switchOption, valueOption } from '../../shared/options.ts';
import { countUpTo } from '../../shared/option-schemas.ts';
import { reconnectDelay } from '../../edge-agent/backoff.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

/** The problems an OptionsError lists; fails when `resolve` throws nothing or something else. */
function problemsOf(resolve: () => unknown): string[] {
  try {
    resolve();
  } catch (err) {
    if (err instanceof OptionsError) return err.problems;
    throw err;
  }
  throw new Error('expected an OptionsError');
}

describe('agent options', () => {
  it('takes flags over environment over config file over defaults', () => {
    const file = join(tempDir(), 'agent.json');
    writeFileSync(file, JSON.stringify({ node: 'from-file', interval: '5s', broker: 'mqtt://file:1883' }));
    const { values } = resolveOptions(agentSpec, ['--config', file, '--node', 'from-flag'], { REMONITOR_INTERVAL: '2s' });
    expect(values.node).toBe('from-flag');
    expect(values.intervalMs).toBe(2000);
    expect(values.broker).toBe('mqtt://file:1883');
    expect(values.processIntervalMs).toBe(5000);
    expect(Object.isFrozen(values)).toBe(true);
  });

  it('reports every problem at once, naming where each came from', () => {
    const file = join(tempDir(), 'agent.json');
    writeFileSync(file, JSON.stringify({ colour: 'blue' }));
    try {
      resolveOptions(agentSpec, ['--config', file, '--interval', '100ms'], { REMONITOR_NODE: 'a/b', REMONITOR_LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OptionsError);
      const problems = (err as OptionsError).problems;
      expect(problems).toHaveLength(4);
      expect(problems).toContain('--interval: must be between 250ms and 1h (got "100ms")');
      expect(problems.some((p) => p.startsWith('REMONITOR_NODE: node name "a/b" contains "/"'))).toBe(true);
      expect(problems.some((p) => p.startsWith('REMONITOR_LOG_LEVEL: must be one of'))).toBe(true);
      expect(problems).toContain('config file: unknown key "colour"');
    }
  });

  it('checks a config file value of any JSON type as the flag text, every bad item of a list named', () => {
    const file = join(tempDir(), 'agent.json');
    writeFileSync(file, JSON.stringify({ 'spool-max': 1048576, tags: ['ci', 'Bad Tag', 'ALSO'] }));
    const problems = problemsOf(() => resolveOptions(agentSpec, ['--config', file], {}));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^config file key "tags": tag "Bad Tag" must be lowercase.*; tag "ALSO" must be lowercase.* \(got "ci,Bad Tag,ALSO"\)$/);
    writeFileSync(file, JSON.stringify({ 'spool-max': 1048576 }));
    expect(resolveOptions(agentSpec, ['--config', file], {}).values.spoolMaxBytes).toBe(1048576);
  });

  it('takes a switch from a flag, true/false/1/0 text or a JSON boolean, and names anything else', () => {
    const spec = {
      quiet: switchOption('quiet', 'say less'),
      count: valueOption({ flag: 'count', help: 'how many', default: 1, schema: countUpTo('count', 9) }),
    };
    const file = join(tempDir(), 'switch.json');
    writeFileSync(file, JSON.stringify({ quiet: true }));
    expect(resolveOptions(spec, ['--config', file], {}).values.quiet).toBe(true);
    expect(resolveOptions(spec, [], { REMONITOR_QUIET: '0' }).values.quiet).toBe(false);
    expect(resolveOptions(spec, ['--quiet'], { REMONITOR_QUIET: '0' }).values.quiet).toBe(true);
    expect(problemsOf(() => resolveOptions(spec, [], { REMONITOR_QUIET: 'yes', REMONITOR_COUNT: '10' }))).toEqual([
      'REMONITOR_QUIET: expected true or false (got "yes")',
      'REMONITOR_COUNT: count must be an integer from 1 to 9 (got "10")',
    ]);
    writeFileSync(file, '[1, 2]');
    expect(problemsOf(() => resolveOptions(spec, ['--config', file], {}))).toEqual([`config file ${file}: expected a JSON object of options`]);
  });

  it('refuses an unknown flag', () => {
    expect(() => resolveOptions(agentSpec, ['--colour', 'blue'], {})).toThrow(/Unknown option '--colour'/);
  });
});

describe('reconnectDelay', () => {
  it.each([
    [0, 0.5, 1000],
    [1, 0.5, 2000],
    [3, 0.5, 8000],
    [10, 0.5, 30_000], // capped
    [0, 0, 700], // −30 %
    [0, 0.999999, 1300], // +30 %
  ])('attempt %i with random %f → %i ms', (attempt, random, ms) => {
    expect(reconnectDelay(attempt, undefined, random)).toBe(ms);
  });
});
