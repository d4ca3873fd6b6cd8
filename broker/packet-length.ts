// Follows MQTT packet boundaries over a raw byte stream by reading only each fixed header, so the
// broker can refuse a packet by its declared size before anyone buffers its body. Aedes 1.x has no
// packet size limit: its parser holds a declared 200 MB PUBLISH in memory until it is complete.
// Pure: no I/O, no timers; feed it chunks in the order they arrived.

/** What the stream has shown so far. A verdict other than `ok` is final. */
export type LengthVerdict =
  | { kind: 'ok' }
  /** Whole packet (fixed header + remaining length) in bytes, as the client declared it. */
  | { kind: 'oversize'; declaredBytes: number }
  /** A remaining length whose fourth byte still has the continuation bit set [MQTT-2.2.3]. */
  | { kind: 'malformed' };

// The remaining length is a variable byte integer of at most 4 bytes, 7 bits each, least
// significant group first; bit 7 says another byte follows [MQTT-2.2.3], [MQTT-1.5.5].
const MAX_LENGTH_BYTES = 4;

export class PacketLengthTracker {
  private state: 'type' | 'length' | 'body' = 'type';
  private lengthValue = 0;
  private lengthBytes = 0;
  private multiplier = 1;
  /** Body bytes of the current packet not seen yet. */
  private bodyLeft = 0;
  private verdict: LengthVerdict = { kind: 'ok' };
  /** Fixed headers read to the end (packets whose size is known and within the cap). */
  packets = 0;

  /** @param maxPacketBytes largest whole packet accepted, fixed header included, in bytes */
  constructor(private readonly maxPacketBytes: number) {
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 2) {
      throw new TypeError(`maxPacketBytes must be an integer >= 2 (a fixed header alone is 2 bytes), got ${maxPacketBytes}`);
    }
  }

  feed(chunk: Uint8Array): LengthVerdict {
    if (this.verdict.kind !== 'ok') return this.verdict;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        i += 1; // packet type and flags: not our business
        this.state = 'length';
        this.lengthValue = 0;
        this.lengthBytes = 0;
        this.multiplier = 1;
      } else {
        const byte = chunk[i++]!;
        this.lengthValue += (byte & 0x7f) * this.multiplier;
        this.lengthBytes += 1;
        if (byte & 0x80) {
          if (this.lengthBytes === MAX_LENGTH_BYTES) return (this.verdict = { kind: 'malformed' });
          this.multiplier *= 128;
          continue;
        }
        const declaredBytes = 1 + this.lengthBytes + this.lengthValue;
        if (declaredBytes > this.maxPacketBytes) return (this.verdict = { kind: 'oversize', declaredBytes });
        this.packets += 1;
        this.bodyLeft = this.lengthValue;
        this.state = this.bodyLeft > 0 ? 'body' : 'type';
      }
    }
    return this.verdict;
  }
}
