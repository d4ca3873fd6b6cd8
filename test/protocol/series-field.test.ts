// The `series` field (key 29): labelled values, checked like every other field, with the bad part named.
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeSample, encodeSample, ProtocolError, type Sample } from '../../protocol/index.ts';

const cbor = new Encoder({ mapsAsObjects: false, useRecords: false });
const identity = (): Map<number, unknown> =>
  new Map<number, unknown>([
    [0, 1],
    [1, 'b'],
    [2, 0],
    [3, Date.UTC(2026, 0, 1)],
  ]);
const withSeries = (rows: unknown) => cbor.encode(new Map([...identity(), [29, rows]]));

describe('series (key 29)', () => {
  it('round-trips names, labels and values', () => {
    const sample: Sample = {
      v: 1,
      boot: 'b',
      seq: 0,
      ts_ms: Date.UTC(2026, 0, 1),
      series: [
        { name: 'container_cpu_pct', labels: { container: 'nginx' }, value: 3.5 },
        { name: 'my_queue_depth', labels: {}, value: 12 },
      ],
    };
    expect(decodeSample(encodeSample(sample)).series).toEqual(sample.series);
  });

  it.each<[string, unknown, RegExp]>([
    ['a name with a dot', [['cpu.steal', new Map(), 1]], /series.*\[0\]\.name must be a name/],
    ['a name starting with __', [['__name__', new Map(), 1]], /\[0\]\.name/],
    ['labels as an array', [['x', ['a'], 1]], /\[0\]\.labels must be a map/],
    ['a __proto__ label', [['x', new Map([['__proto__', 'y']]), 1]], /\[0\]\.labels must be a name/],
    ['a label value that is a number', [['x', new Map([['a', 1]]), 1]], /\[0\]\.labels\.a must be a text/],
    ['nine labels', [['x', new Map(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'v'])), 1]], /at most 8 labels/],
    ['an infinite value', [['x', new Map(), Infinity]], /\[0\]\.value must be a finite number/],
    ['a row of two', [['x', new Map()]], /\[0\]/],
    ['not an array', 'x', /series.*must be an array/],
  ])('refuses %s', (_, rows, message) => {
    let error: unknown;
    try {
      decodeSample(withSeries(rows));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(message);
    expect((error as ProtocolError).field).toBe('series');
  });
});
