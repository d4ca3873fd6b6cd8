// The counter→rate arithmetic, as tables of cases.
import { describe, expect, it } from 'vitest';
import { bytesPerSecond, cpuBusyPct, cpuCoreBusyPct, percentOf, processCpuPct, round1, type CpuJiffies } from '../../edge-agent/rates.ts';

const j = (total: number, idle: number): CpuJiffies => ({ total, idle });

describe('round1', () => {
  it.each([
    [12.34, 12.3],
    [12.36, 12.4],
    [0.04, 0],
    [99.96, 100],
    [7, 7],
  ])('%d → %d', (x, want) => expect(round1(x)).toBe(want));
});

describe('percentOf', () => {
  it.each<[string, number, number, number | undefined]>([
    ['half', 50, 100, 50],
    ['rounds to 0.1', 1, 3, 33.3],
    ['all', 7, 7, 100],
    ['nothing used', 0, 10, 0],
    ['clamped at 100', 11, 10, 100],
    ['whole 0 (no swap) is unknown, not 0 %', 0, 0, undefined],
    ['negative part is unknown', -1, 10, undefined],
    ['NaN part is unknown', Number.NaN, 10, undefined],
  ])('%s', (_, part, whole, want) => expect(percentOf(part, whole)).toBe(want));
});

describe('cpuBusyPct', () => {
  it.each<[string, CpuJiffies, CpuJiffies, number | undefined]>([
    ['30 % busy', j(1000, 800), j(1400, 1080), 30],
    ['fully busy', j(1000, 800), j(1100, 800), 100],
    ['fully idle', j(1000, 800), j(1100, 900), 0],
    ['rounds to 0.1', j(0, 0), j(3, 2), 33.3],
    ['no ticks passed: unknown', j(1000, 800), j(1000, 800), undefined],
    ['total went back (reset): unknown', j(1000, 800), j(900, 850), undefined],
    ['idle went back (iowait is allowed to decrease): unknown, never >100', j(1000, 800), j(1100, 790), undefined],
    ['idle grew more than total: unknown, never negative', j(1000, 800), j(1100, 950), undefined],
  ])('%s', (_, prev, cur, want) => expect(cpuBusyPct(prev, cur)).toBe(want));
});

describe('cpuCoreBusyPct', () => {
  it.each<[string, CpuJiffies[], CpuJiffies[], number[] | undefined]>([
    ['per core, in order', [j(100, 50), j(100, 50)], [j(200, 60), j(200, 140)], [90, 10]],
    ['a core went offline: unknown', [j(100, 50), j(100, 50)], [j(200, 60)], undefined],
    ['one core reset: the whole array is unknown (it is positional)', [j(100, 50), j(100, 50)], [j(200, 60), j(50, 10)], undefined],
    ['no cores: unknown', [], [], undefined],
  ])('%s', (_, prev, cur, want) => expect(cpuCoreBusyPct(prev, cur)).toEqual(want));
});

describe('bytesPerSecond', () => {
  it.each<[string, number, number, number, number | undefined]>([
    ['1 MB in 1 s', 0, 1_000_000, 1000, 1_000_000],
    ['over 2 s', 5000, 9000, 2000, 2000],
    ['rounds to an integer', 0, 1000, 3000, 333],
    ['rounds half up', 0, 1, 2000, 1],
    ['no change', 42, 42, 1000, 0],
    ['above 2^32: no 32-bit arithmetic', 2 ** 40, 2 ** 40 + 2 ** 33, 1000, 2 ** 33],
    ['counter reset: unknown', 10_000, 500, 1000, undefined],
    ['32-bit wrap: unknown rather than a spike', 0xffff_ff00, 0x100, 1000, undefined],
    ['zero elapsed: unknown', 0, 100, 0, undefined],
    ['negative elapsed: unknown', 0, 100, -5, undefined],
  ])('%s', (_, prev, cur, ms, want) => expect(bytesPerSecond(prev, cur, ms)).toBe(want));
});

describe('processCpuPct', () => {
  it.each<[string, number, number, number, number | undefined, number | undefined]>([
    ['one full core for 1 s', 0, 100, 1000, undefined, 100],
    ['two cores: above 100', 500, 700, 1000, undefined, 200],
    ['over 5 s', 0, 50, 5000, undefined, 10],
    ['rounds to 0.1', 0, 1, 3000, undefined, 0.3],
    ['idle', 7, 7, 1000, undefined, 0],
    ['another tick rate', 0, 250, 1000, 250, 100],
    ['ticks went back (pid reused): unknown', 500, 20, 1000, undefined, undefined],
    ['zero elapsed: unknown', 0, 10, 0, undefined, undefined],
    ['zero tick rate: unknown', 0, 10, 1000, 0, undefined],
  ])('%s', (_, prev, cur, ms, hz, want) => expect(processCpuPct(prev, cur, ms, hz)).toBe(want));
});
