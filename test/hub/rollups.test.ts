import { describe, expect, it } from 'vitest';
import { chooseResolution, DEFAULT_RETENTION } from '../../hub/storage/rollups.ts';

const NOW = 1_800_000_000_000;
const H = 3_600_000;
const D = 24 * H;

describe('chooseResolution', () => {
  it.each([
    ['15 min live, 900 px', 15 * 60_000, 900, 'raw'],
    ['1 h at 1000 points', H, 1000, 'raw'],
    ['24 h at 1000 points (86 s a point)', D, 1000, '1m'],
    ['24 h at 100 points (14 min a point)', D, 100, '1m'],
    ['24 h at 90 points (16 min a point)', D, 90, '15m'],
    ['7 d at 1000 points (10 min a point)', 7 * D, 1000, '1m'],
    ['7 d at 600 points (17 min a point)', 7 * D, 600, '15m'],
    ['30 d at 1000 points (43 min a point)', 30 * D, 1000, '15m'],
    ['100 d at 3000 points (48 min a point): 15 min tier keeps 90 d', 100 * D, 3000, '1h'],
    ['1 y at 1000', 365 * D, 1000, '1h'],
    ['3 d at 5000 points (52 s a point): raw is gone past 48 h', 3 * D, 5000, '1m'],
  ])('%s → %s', (_name, range, points, expected) => {
    expect(chooseResolution(NOW - range, NOW, points, NOW, DEFAULT_RETENTION)).toBe(expected);
  });
});
