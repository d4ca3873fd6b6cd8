// Where each entry of a CBOR map with integer keys sits in its bytes, found by reading the heads
// only: a reader that wants a few fields decodes those and never builds the rest (a sample's
// per-core list, top processes and so on).

/** A map this scanner does not read (indefinite lengths, a key that is no unsigned integer, a cut): decode it whole. */
export class UnscannableCbor extends Error {}

// The last head read: module state rather than an object per head, which cost more than the reading.
let major = 0;
/** The head's argument: a length, count, integer or tag number (a float's bits are not read). */
let argument = 0;

/** Reads the head at `at` into major and argument; returns where what follows it begins. */
function readHead(bytes: Uint8Array, at: number): number {
  if (at >= bytes.length) throw new UnscannableCbor('cut short');
  const initial = bytes[at]!;
  major = initial >> 5;
  const info = initial & 0x1f;
  if (info < 24) {
    argument = info;
    return at + 1;
  }
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0) throw new UnscannableCbor('an indefinite length or reserved head');
  if (at + 1 + size > bytes.length) throw new UnscannableCbor('cut short');
  argument = 0;
  for (let i = 1; i <= size; i++) argument = argument * 256 + bytes[at + i]!;
  return at + 1 + size;
}

/** Where the item at `at` ends, its nested items included; iterative, so no nesting runs the stack out. */
function skipItem(bytes: Uint8Array, at: number): number {
  let pending = 1;
  while (pending > 0) {
    at = readHead(bytes, at);
    pending--;
    if (major === 2 || major === 3) at += argument;
    else if (major === 4) pending += argument;
    else if (major === 5) pending += argument * 2;
    else if (major === 6) pending += 1;
    if (at > bytes.length || pending > bytes.length) throw new UnscannableCbor('cut short');
  }
  return at;
}

/**
 * The byte ranges of the entries (key and value) of the map `bytes` holds whose keys are in
 * `wanted`, as [start, end) pairs in map order. Definite lengths only, as our encoder writes;
 * anything else throws UnscannableCbor.
 */
export function scanMapEntries(bytes: Uint8Array, wanted: ReadonlySet<number>): number[] {
  const ranges: number[] = [];
  let at = readHead(bytes, 0);
  if (major !== 5) throw new UnscannableCbor('not a map');
  const entries = argument;
  for (let i = 0; i < entries; i++) {
    const keyStart = at;
    at = readHead(bytes, at);
    const keyMajor: number = major; // read again: the check on the map's head does not hold here
    if (keyMajor !== 0) throw new UnscannableCbor('a key that is not an unsigned integer');
    const key = argument;
    at = skipItem(bytes, at);
    if (wanted.has(key)) ranges.push(keyStart, at);
  }
  if (at !== bytes.length) throw new UnscannableCbor('bytes after the map');
  return ranges;
}
