// Application acknowledgements: the hub tells an agent what it has committed to disk, so the agent
// can free its spool. MQTT's PUBACK is not enough: a broker acks a message as soon as it holds it,
// before the hub has stored anything.
//
// Hub → agent on `remonitor/<node>/ack` (QoS 1, not retained): a CBOR map with integer keys,
//   0 v     uint  protocol version, 1
//   1 boot  text  the boot id (spool identity) this ack is about
//   2 next  uint  every seq below `next` of that boot is stored (or known dropped by the agent)
//
// Agent → hub: the agent's spool state rides in its birth record (`info`, text keys), which it
// republishes on every connect and whenever the spool drops data:
//   spool_boot       text  the boot id of the spool
//   spool_first_seq  uint  oldest seq still in the spool: anything below it that the hub lacks is lost
//   spool_dropped    uint  samples dropped unacknowledged because the spool was full or too old, ever
import { Decoder, Encoder } from 'cbor-x';
import { MAX_PAYLOAD_BYTES, ProtocolError } from './codec.ts';
import { PROTOCOL_VERSION } from './sample.ts';

export interface Ack {
  v: number;
  boot: string;
  next: number;
}

export interface SpoolReport {
  spool_boot: string;
  spool_first_seq: number;
  spool_dropped: number;
}

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false });
// int64AsNumber: see codec.ts (cbor-x's typings lack the option, hence the variable).
const decoderOptions = { mapsAsObjects: false, useRecords: false, int64AsNumber: true };
const decoder = new Decoder(decoderOptions);

export function encodeAck(ack: Omit<Ack, 'v'>): Uint8Array {
  return encoder.encode(
    new Map<number, unknown>([
      [0, PROTOCOL_VERSION],
      [1, ack.boot],
      [2, ack.next],
    ]),
  );
}

function decodeMap(bytes: Uint8Array, what: string): Map<unknown, unknown> {
  if (bytes.length === 0 || bytes.length > MAX_PAYLOAD_BYTES) throw new ProtocolError(`${what}: payload of ${bytes.length} bytes`);
  let wire: unknown;
  try {
    wire = decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError(`${what}: not valid CBOR (${(err as Error).message})`);
  }
  if (!(wire instanceof Map)) throw new ProtocolError(`${what}: expected a CBOR map`);
  return wire;
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function decodeAck(bytes: Uint8Array): Ack {
  const wire = decodeMap(bytes, 'ack');
  const v = wire.get(0);
  const boot = wire.get(1);
  const next = wire.get(2);
  if (!isUint(v) || v < 1 || v > PROTOCOL_VERSION) throw new ProtocolError(`ack: unsupported version ${String(v)}`, 'v');
  if (typeof boot !== 'string' || boot.length === 0 || boot.length > 256)
    throw new ProtocolError(`ack: "boot" (key 1) must be text, got ${typeof boot}`, 'boot');
  if (!isUint(next)) throw new ProtocolError(`ack: "next" (key 2) must be a non-negative integer, got ${String(next)}`, 'next');
  return { v, boot, next };
}

/** The spool fields of a birth record, or null when the agent has no spool (an older agent). */
export function decodeSpoolReport(infoBytes: Uint8Array): SpoolReport | null {
  const wire = decodeMap(infoBytes, 'info');
  const boot = wire.get('spool_boot');
  const first = wire.get('spool_first_seq');
  const dropped = wire.get('spool_dropped');
  if (boot === undefined) return null;
  if (typeof boot !== 'string' || boot.length === 0 || boot.length > 256) throw new ProtocolError('info: "spool_boot" must be text', 'spool_boot');
  if (!isUint(first)) throw new ProtocolError(`info: "spool_first_seq" must be a non-negative integer, got ${String(first)}`, 'spool_first_seq');
  if (!isUint(dropped)) throw new ProtocolError(`info: "spool_dropped" must be a non-negative integer, got ${String(dropped)}`, 'spool_dropped');
  return { spool_boot: boot, spool_first_seq: first, spool_dropped: dropped };
}
