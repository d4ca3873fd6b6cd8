// Stands between a client's connection (TCP socket or WebSocket stream) and Aedes: every chunk goes
// through a PacketLengthTracker first, and a client that declares a packet over the cap has its
// connection destroyed at once, so neither Aedes nor this stream ever holds the oversized body.
// Writes pass straight through with the connection's own backpressure, which Aedes' drain
// timeout relies on; the pieces of a corked packet go as one write.
import { Duplex } from 'node:stream';
import { PacketLengthTracker, type LengthVerdict } from './packet-length.ts';

export type Violation = Exclude<LengthVerdict, { kind: 'ok' }>;

export function guardPacketSize(inner: Duplex, maxPacketBytes: number, onViolation: (v: Violation) => void): Duplex {
  return new SizeGuardedStream(inner, new PacketLengthTracker(maxPacketBytes), onViolation);
}

class SizeGuardedStream extends Duplex {
  constructor(
    private readonly inner: Duplex,
    tracker: PacketLengthTracker,
    onViolation: (v: Violation) => void,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => {
      const verdict = tracker.feed(chunk);
      if (verdict.kind !== 'ok') {
        inner.pause(); // nothing more is read from this client
        onViolation(verdict);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err)); // `on`: a second error must not go unhandled
    inner.once('close', () => this.destroy());
  }

  override _read(): void {
    if (!this.inner.destroyed) this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.write(chunk, encoding)) callback();
    else this.inner.once('drain', () => callback());
  }

  // mqtt-packet corks this stream while it writes a packet's pieces (header, topic, payload…);
  // handing them on as one buffer makes one socket write, where piece by piece made one syscall each.
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const whole = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    if (this.inner.write(whole)) callback();
    else this.inner.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }
}
