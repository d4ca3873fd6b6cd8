// The dashboards' time formats as tables: locale and zone pinned, so each case reads the same on
// any machine. Newer ICU versions put a narrow no-break space before AM/PM; spaces are compared as spaces.
import { describe, expect, it } from 'vitest';
import { TimeFormat, fmtAgo } from '../../web/client/time-format.ts';
import { fmtInterval } from '../../web/client/format.ts';

const spaces = (s: string) => s.replace(/\s/g, (c) => (c === '\n' ? c : ' '));
const at = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s);

describe('TimeFormat.dateTime', () => {
  const ms = at(2026, 12, 6, 18, 25, 3);
  it.each([
    ['de-DE', 'Asia/Kolkata', '06.12.2026, 23:55:03 GMT+5:30'],
    ['de-DE', 'Europe/Berlin', '06.12.2026, 19:25:03 MEZ'],
    ['de-DE', 'UTC', '06.12.2026, 18:25:03 UTC'],
    ['en-US', 'UTC', '12/06/2026, 06:25:03 PM UTC'],
    ['en-GB', 'Europe/London', '06/12/2026, 18:25:03 GMT'],
    ['ja-JP', 'Asia/Tokyo', '2026/12/07 03:25:03 JST'],
  ])('%s in %s', (locale, zone, expected) => {
    expect(spaces(new TimeFormat(locale, zone).dateTime(ms))).toBe(expected);
  });

  it('answers a dash for an unknown time', () => {
    const f = new TimeFormat('en-GB', 'UTC');
    expect([f.dateTime(null), f.dateTime(undefined), f.dateTime(NaN)]).toEqual(['—', '—', '—']);
  });
});

describe('TimeFormat.zoneName', () => {
  it.each([
    ['de-DE', 'Europe/Berlin', at(2026, 12, 6, 12, 0), 'MEZ'],
    ['de-DE', 'Europe/Berlin', at(2026, 7, 1, 12, 0), 'MESZ'],
    ['en-GB', 'Europe/London', at(2026, 7, 1, 12, 0), 'BST'],
    ['de-DE', 'Asia/Kolkata', at(2026, 7, 1, 12, 0), 'GMT+5:30'],
    ['en-US', 'UTC', at(2026, 7, 1, 12, 0), 'UTC'],
  ])('%s in %s at %i', (locale, zone, ms, expected) => {
    expect(new TimeFormat(locale, zone).zoneName(ms)).toBe(expected);
  });
});

describe('TimeFormat.axisLabels', () => {
  const s = (ms: number) => ms / 1000;
  it.each([
    // Ten-minute ticks over midnight in Kolkata: the date under the first tick and under the new day's.
    ['de-DE', 'Asia/Kolkata', [0, 1, 2, 3].map((i) => s(at(2026, 12, 6, 18, 20)) + i * 600), 600, ['23:50\n6.12.', '00:00\n7.12.', '00:10', '00:20']],
    ['de-DE', 'UTC', [0, 1, 2, 3].map((i) => s(at(2026, 12, 6, 18, 20)) + i * 600), 600, ['18:20\n6.12.', '18:30', '18:40', '18:50']],
    ['en-US', 'UTC', [0, 1].map((i) => s(at(2026, 12, 6, 18, 20)) + i * 600), 600, ['6:20 PM\n12/6', '6:30 PM']],
    // Ticks closer than a minute carry seconds.
    ['en-GB', 'UTC', [0, 1, 2].map((i) => s(at(2026, 12, 6, 18, 20)) + i * 15), 15, ['18:20:00\n06/12', '18:20:15', '18:20:30']],
    // Day ticks carry the year under the first one and where it changes.
    ['de-DE', 'UTC', [0, 1, 2].map((i) => s(at(2026, 12, 30, 0, 0)) + i * 86400), 86400, ['30.12.\n2026', '31.12.', '1.1.\n2027']],
    ['en-US', 'UTC', [s(at(2026, 11, 1, 0, 0)), s(at(2026, 12, 1, 0, 0)), s(at(2027, 1, 1, 0, 0))], 30 * 86400, ['Nov\n2026', 'Dec', 'Jan\n2027']],
    ['en-US', 'UTC', [s(at(2026, 1, 1, 0, 0)), s(at(2027, 1, 1, 0, 0))], 365 * 86400, ['2026', '2027']],
  ] as const)('%s in %s, %#', (locale, zone, splits, incr, expected) => {
    expect(new TimeFormat(locale, zone).axisLabels(splits, incr).map(spaces)).toEqual(expected);
  });

  it('leaves a missing split blank', () => {
    expect(new TimeFormat('en-GB', 'UTC').axisLabels([null, s(at(2026, 12, 6, 18, 20))], 600)).toEqual(['', '18:20\n06/12']);
  });
});

describe('fmtAgo', () => {
  const now = at(2026, 12, 6, 12, 0);
  it.each([
    [null, 'never'],
    [now + 5000, 'just now'],
    [now - 999, 'just now'],
    [now - 3000, '3 s ago'],
    [now - 59_999, '59 s ago'],
    [now - 5 * 60_000, '5 min ago'],
    [now - 2 * 3_600_000, '2 h ago'],
    [now - 4 * 86_400_000, '4 d ago'],
  ])('%s', (ms, expected) => {
    expect(fmtAgo(ms, now)).toBe(expected);
  });
});

describe('fmtInterval', () => {
  it.each([
    [250, '250 ms'],
    [500, '500 ms'],
    [1000, '1 s'],
    [1500, '1.5 s'],
    [2000, '2 s'],
    [90_000, '90 s'],
    [60_000, '1 min'],
    [300_000, '5 min'],
    [5_400_000, '90 min'],
    [3_600_000, '1 h'],
    [null, '—'],
    [0, '—'],
  ])('%s', (ms, expected) => {
    expect(fmtInterval(ms)).toBe(expected);
  });
});
