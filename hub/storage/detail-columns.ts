// A chunk's detail blobs (hub/storage/sample-detail.ts: cores, filesystems, interfaces, top
// processes, labelled series, as CBOR) taken apart for hub/storage/chunk-codec.ts: each blob's
// shape (its CBOR with every number left out) in a table of distinct shapes, and its numbers as
// columns by their place in the shape (cores[2], top_cpu[1]'s rss, …). A column of one core's
// percentages across the hour codes to a byte or less a value, where as float32s end to end in
// CBOR it took five bytes that the compressor could not shrink. Pure: no I/O, no clock.
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';

// The options of sample-detail.ts: a blob is taken apart only when these give back its exact bytes.
const encoder = new Encoder({ useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });
const decoder = new Decoder({ useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT, mapsAsObjects: false });

export interface DetailColumns {
  /** Distinct shapes: a blob's CBOR with `undefined` where its numbers were. */
  shapes: Uint8Array[];
  /** Per row: 0 for no blob, else 1 + its shape's index. */
  shapeOf: number[];
  /** Per column (in the order of pathsOf(shapes)) and row: its number, or null. */
  columns: (number | null)[][];
}

/**
 * The names of an array's items in paths: an item that is a tuple with a string in it (a mount, an
 * interface, a process name) by its first string, so that a process keeps its columns wherever it
 * ranks in a sample's top five; the others by index, and all by index when two names are alike.
 * Computed from the strings alone, which a shape keeps, so that splitting and joining agree.
 */
function itemNames(items: readonly unknown[]): string[] {
  const names: string[] = new Array<string>(items.length);
  let named = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    let name: string | undefined;
    if (Array.isArray(item)) for (let k = 0; k < item.length && name === undefined; k++) if (typeof item[k] === 'string') name = item[k] as string;
    named ||= name !== undefined;
    names[i] = name === undefined ? String(i) : `@${name}`;
  }
  if (named && new Set(names).size !== names.length) for (let i = 0; i < items.length; i++) names[i] = String(i);
  return names;
}

/** Every number of `value` with its path, depth first (arrays by itemNames, maps by key); false when something else stands in the way. */
function leaves(value: unknown, path: string, visit: (path: string, n: number) => void): boolean {
  if (typeof value === 'number') {
    // NaN would come back as an absent value from a column.
    if (Number.isNaN(value)) return false;
    visit(path, value);
    return true;
  }
  // A blob that holds undefined itself would have it filled by a number.
  if (value === undefined) return false;
  if (Array.isArray(value)) {
    const names = itemNames(value);
    return value.every((v, i) => leaves(v, `${path}/${names[i]}`, visit));
  }
  if (value instanceof Map) {
    for (const [k, v] of value) if (typeof k !== 'string' || !leaves(v, `${path}/k${k}`, visit)) return false;
    return true;
  }
  return value === null || typeof value === 'string' || typeof value === 'boolean';
}

/** `value` with its numbers replaced by undefined (in place). */
function hollow(value: unknown): unknown {
  if (typeof value === 'number') return undefined;
  if (Array.isArray(value)) return value.map(hollow);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, hollow(v)]));
  return value;
}

/** `shape` with its undefined places filled from `number(path)`. */
function fill(shape: unknown, path: string, number: (path: string) => number): unknown {
  if (shape === undefined) return number(path);
  if (Array.isArray(shape)) {
    const names = itemNames(shape);
    return shape.map((v, i) => fill(v, `${path}/${names[i]}`, number));
  }
  if (shape instanceof Map) return new Map([...shape].map(([k, v]) => [k, fill(v, `${path}/k${k}`, number)]));
  return shape;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** The blobs taken apart, or null when one of them would not come back byte for byte (then they are kept whole). */
export function splitDetails(detail: readonly (Uint8Array | null)[]): DetailColumns | null {
  const shapeIndex = new Map<string, number>();
  const shapes: Uint8Array[] = [];
  const shapeOf: number[] = [];
  const columnAt = new Map<string, number>();
  const paths: string[] = [];
  const columns: (number | null)[][] = [];
  for (let row = 0; row < detail.length; row++) {
    const blob = detail[row];
    if (!blob) {
      shapeOf.push(0);
      continue;
    }
    let value: unknown;
    try {
      value = decoder.decode(blob);
    } catch {
      return null;
    }
    const ok = leaves(value, '', (path, n) => {
      let c = columnAt.get(path);
      if (c === undefined) {
        columnAt.set(path, (c = paths.length));
        paths.push(path);
        columns.push(new Array<number | null>(detail.length).fill(null));
      }
      columns[c]![row] = n;
    });
    if (!ok || !sameBytes(encoder.encode(value), blob)) return null;
    const shape = encoder.encode(hollow(value));
    const key = Buffer.from(shape.buffer, shape.byteOffset, shape.byteLength).toString('latin1');
    let s = shapeIndex.get(key);
    if (s === undefined) {
      shapeIndex.set(key, (s = shapes.length));
      shapes.push(Uint8Array.from(shape));
    }
    shapeOf.push(s + 1);
  }
  return { shapes, shapeOf, columns };
}

/**
 * Where each column's numbers sit in the shapes: in the order they first appear in the shapes, which
 * is the order they first appear in the rows (a shape's first row brings its paths), so the paths
 * need not be written.
 */
export function pathsOf(shapes: readonly Uint8Array[]): string[] {
  const paths = new Set<string>();
  for (const shape of shapes)
    fill(decoder.decode(shape), '', (path) => {
      paths.add(path);
      return 0;
    });
  return [...paths];
}

/** The blobs back, byte for byte. */
export function joinDetails({ shapes, shapeOf, columns }: DetailColumns): (Uint8Array | null)[] {
  const paths = pathsOf(shapes);
  const columnAt = new Map(paths.map((p, c) => [p, c]));
  return shapeOf.map((s, row) => {
    if (s === 0) return null;
    const shape = shapes[s - 1];
    if (!shape) throw new RangeError('chunk holds a detail of an unknown shape');
    const value = fill(decoder.decode(shape), '', (path) => {
      const n = columns[columnAt.get(path) ?? -1]?.[row];
      if (typeof n !== 'number') throw new RangeError(`chunk's detail lacks its number at ${path}`);
      return n;
    });
    return Uint8Array.from(encoder.encode(value));
  });
}
