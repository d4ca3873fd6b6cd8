// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial and final value 0xFFFFFFFF), the
// checksum of every spool record. node:zlib has it natively from Node 20.15 on; the agent also runs
// on Node 18 (Raspberry Pi OS, Debian 12), where this table computes the same numbers.
import { createRequire } from 'node:module';

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it), as an unsigned 32-bit number. */
export function tableCrc32(data: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (data: Uint8Array, previous?: number) => number;

/**
 * Past this many bytes checksummed, node:zlib's crc32 where the running Node has it: under the
 * unit's --lite-mode V8 only interprets, and the table costs ~70 ns a byte against under 1 µs for a
 * sample natively. Below it, the table: loading node:zlib costs the agent 1.4 MiB of resident memory
 * (the binary's pages it touches), while a connected agent checksums nothing (edge-agent/spool.ts's
 * live tail) and an outage of an hour at 1 Hz checksums about 2 MB. A replayed backlog loads it.
 */
const NATIVE_AFTER_BYTES = 4 * 1024 * 1024;
let tableBytes = 0;
let native: Crc32 | null | undefined;

function loadNative(): Crc32 | null {
  // Read off the module, not imported by name: a missing named export fails the whole bundle at load (Node 18).
  return (createRequire(import.meta.url)('node:zlib') as { crc32?: Crc32 }).crc32 ?? null;
}

export function crc32(data: Uint8Array, previous = 0): number {
  if (native === undefined && (tableBytes += data.length) > NATIVE_AFTER_BYTES) native = loadNative();
  return (native ?? tableCrc32)(data, previous);
}
