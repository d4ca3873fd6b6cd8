// The spool's CRC-32: the table the agent uses on Node 18 gives node:zlib's numbers (Node 20.15+,
// where the spool uses zlib's), so a spool written under one Node reads under the other.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, tableCrc32 } from '../../edge-agent/crc32.ts';
import { REPO } from '../helpers/parts.ts';

describe('tableCrc32', () => {
  it("gives the standard check value and zlib's CRC for every length and for chained calls", () => {
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    expect(tableCrc32(new Uint8Array(0))).toBe(0);
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let length = 0; length < 600; length += 7) {
      const data = Buffer.from(Array.from({ length }, random));
      expect(tableCrc32(data), `length ${length}`).toBe(zlibCrc32(data));
      const cut = length >> 1;
      expect(tableCrc32(data.subarray(cut), tableCrc32(data.subarray(0, cut))), `chained at ${cut}`).toBe(zlibCrc32(data));
    }
    expect(tableCrc32(Buffer.alloc(4096, 0xff))).toBe(zlibCrc32(Buffer.alloc(4096, 0xff)));
  });

  it("matches the CRC of every record in a spool written with node:zlib's", () => {
    // Record layout (edge-agent/spool.ts): u32 length | u32 crc32(body) | body of `length` bytes.
    const dir = join(REPO, 'test/fixtures/spool-v1');
    let records = 0;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
      const buf = readFileSync(join(dir, name));
      for (let offset = 0; offset < buf.length; records++) {
        const length = buf.readUInt32LE(offset);
        expect(tableCrc32(buf.subarray(offset + 8, offset + 8 + length)), `${name} @${offset}`).toBe(buf.readUInt32LE(offset + 4));
        offset += 8 + length;
      }
    }
    expect(records).toBe(12);
  });

  it("gives the same numbers through the table and, past 4 MiB checksummed, node:zlib's", () => {
    const sample = Buffer.from('a spooled sample');
    expect(crc32(sample)).toBe(zlibCrc32(sample));
    const mebibyte = Buffer.alloc(1024 * 1024, 0x5a);
    for (let i = 0; i < 5; i++) expect(crc32(mebibyte), `MiB ${i}`).toBe(zlibCrc32(mebibyte));
    expect(crc32(sample, 12345)).toBe(zlibCrc32(sample, 12345));
  });
});
