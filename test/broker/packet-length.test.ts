// The pure MQTT fixed-header length tracker, as tables of byte streams split into chunks.
import { describe, expect, it } from 'vitest';
import { PacketLengthTracker, type LengthVerdict } from '../../broker/packet-length.ts';
import { varint } from './raw-mqtt.ts';

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const zeros = (n: number): Uint8Array => new Uint8Array(n);
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

const packet = (type: number, bodyBytes: number): Uint8Array => cat(b(type, ...varint(bodyBytes)), zeros(bodyBytes));

const OK: LengthVerdict = { kind: 'ok' };
const CAP = 1024;

const cases: { name: string; chunks: Uint8Array[]; verdict: LengthVerdict; packets: number }[] = [
  { name: 'nothing yet', chunks: [], verdict: OK, packets: 0 },
  { name: 'PINGREQ (zero-length body)', chunks: [b(0xc0, 0x00)], verdict: OK, packets: 1 },
  { name: 'several packets in one chunk', chunks: [cat(packet(0x30, 10), b(0xc0, 0), packet(0x30, 300), b(0xe0, 0))], verdict: OK, packets: 4 },
  { name: 'fixed header split after the type byte', chunks: [b(0x30), b(...varint(200)), zeros(200)], verdict: OK, packets: 1 },
  {
    name: 'length split between its own bytes, body across chunks',
    chunks: [b(0x30, varint(900)[0]!), b(varint(900)[1]!), zeros(450), cat(zeros(450), b(0xc0)), b(0x00)],
    verdict: OK,
    packets: 2,
  },
  { name: 'one byte at a time', chunks: [...cat(packet(0x30, 129), packet(0x82, 5))].map((x) => b(x)), verdict: OK, packets: 2 },
  // 1 type byte + 2 length bytes + 1021 body bytes = exactly the cap
  { name: 'exactly at the cap', chunks: [packet(0x30, CAP - 3)], verdict: OK, packets: 1 },
  { name: 'one byte over the cap', chunks: [b(0x30, ...varint(CAP - 2))], verdict: { kind: 'oversize', declaredBytes: CAP + 1 }, packets: 0 },
  {
    name: 'declared 200 MB, header only',
    chunks: [b(0x30, ...varint(200 * 1024 * 1024))],
    verdict: { kind: 'oversize', declaredBytes: 1 + 4 + 200 * 1024 * 1024 },
    packets: 0,
  },
  {
    name: 'oversize after good packets, header split',
    chunks: [cat(packet(0x30, 5), b(0x30, 0xff)), b(0xff, 0x7f)],
    verdict: { kind: 'oversize', declaredBytes: 1 + 3 + 2_097_151 },
    packets: 1,
  },
  { name: 'largest legal length (4 bytes)', chunks: [b(0x30, 0xff, 0xff, 0xff, 0x7f)], verdict: { kind: 'oversize', declaredBytes: 268_435_460 }, packets: 0 },
  { name: 'malformed: 5-byte length', chunks: [b(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)], verdict: { kind: 'malformed' }, packets: 0 },
  { name: 'malformed, split across chunks', chunks: [b(0x30, 0x80), b(0x80, 0x80), b(0x80)], verdict: { kind: 'malformed' }, packets: 0 },
  {
    name: 'verdict is final: later good bytes change nothing',
    chunks: [b(0x30, 0x80, 0x80, 0x80, 0x80), b(0xc0, 0x00)],
    verdict: { kind: 'malformed' },
    packets: 0,
  },
];

describe('PacketLengthTracker', () => {
  it.each(cases)('$name', ({ chunks, verdict, packets }) => {
    const tracker = new PacketLengthTracker(CAP);
    let last: LengthVerdict = OK;
    for (const chunk of chunks) last = tracker.feed(chunk);
    expect(last).toEqual(verdict);
    expect(tracker.packets).toBe(packets);
  });

  it('a bad cap fails at setup with the value', () => {
    expect(() => new PacketLengthTracker(1)).toThrow(/got 1/);
    expect(() => new PacketLengthTracker(1.5)).toThrow(TypeError);
  });
});
