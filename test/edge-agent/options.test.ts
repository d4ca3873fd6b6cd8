import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSpec } from '../../edge-agent/main.ts';
import { OptionsError, resolveOptions } from '../../shared/options.ts';
import { reconnectDelay } from '../../edge-agent/backoff.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

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
