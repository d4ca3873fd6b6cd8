// The ack payload and the spool fields of the birth record: round trip and refusals.
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeAck, decodeSpoolReport, encodeAck, encodeInfo, ProtocolError, type NodeInfo } from '../../protocol/index.ts';

const cbor = new Encoder({ mapsAsObjects: false, useRecords: false });

describe('ack', () => {
  it('round-trips', () => {
    expect(decodeAck(encodeAck({ boot: '9f3c2a71e4b05d18', next: 123_456 }))).toEqual({ v: 1, boot: '9f3c2a71e4b05d18', next: 123_456 });
  });

  it.each([
    [
      'a later version',
      new Map<number, unknown>([
        [0, 2],
        [1, 'b'],
        [2, 1],
      ]),
      /unsupported version 2/,
    ],
    [
      'no boot',
      new Map<number, unknown>([
        [0, 1],
        [2, 1],
      ]),
      /"boot" \(key 1\)/,
    ],
    [
      'a negative next',
      new Map<number, unknown>([
        [0, 1],
        [1, 'b'],
        [2, -1],
      ]),
      /"next" \(key 2\).*-1/,
    ],
  ])('refuses %s', (_, wire, message) => {
    expect(() => decodeAck(cbor.encode(wire))).toThrow(ProtocolError);
    expect(() => decodeAck(cbor.encode(wire))).toThrow(message);
  });
});

describe('spool report in the birth record', () => {
  const info: NodeInfo = {
    v: 1,
    agent_version: 't',
    hostname: 'h',
    os: 'o',
    kernel: 'k',
    arch: 'a',
    cpu_model: 'c',
    cpu_cores: 1,
    mem_total_bytes: 1,
    disks: [],
    boot_time_ms: 0,
    interval_ms: 1000,
  };

  it('is read back, and absent for an agent without a spool', () => {
    const withSpool = { ...info, spool_boot: 'b', spool_first_seq: 10, spool_dropped: 3 } as NodeInfo;
    expect(decodeSpoolReport(encodeInfo(withSpool))).toEqual({ spool_boot: 'b', spool_first_seq: 10, spool_dropped: 3 });
    expect(decodeSpoolReport(encodeInfo(info))).toBeNull();
  });

  it('refuses a bad count, naming the field', () => {
    const bad = { ...info, spool_boot: 'b', spool_first_seq: 1.5, spool_dropped: 0 } as NodeInfo;
    expect(() => decodeSpoolReport(encodeInfo(bad))).toThrow(/spool_first_seq.*1\.5/);
  });
});
