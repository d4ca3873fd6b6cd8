// Hand-built MQTT 3.1.1 packets and raw sockets, for clients that misbehave on purpose: a real
// client library would refuse to send what these tests send.
import { connect, type Socket } from 'node:net';

/** Remaining length as a variable byte integer [MQTT-1.5.5]. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** CONNECT, protocol level 4, clean session, no credentials [MQTT-3.1]. */
export function connectPacket(clientId: string, keepaliveSec = 60): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, keepaliveSec >> 8, keepaliveSec & 0xff]), str(clientId)]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** SUBSCRIBE at QoS 0 [MQTT-3.8]. */
export function subscribePacket(topic: string, packetId = 1): Buffer {
  const body = Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), str(topic), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x82]), varint(body.length), body]);
}

/** The start of a QoS 0 PUBLISH whose remaining length says `declaredBodyBytes` [MQTT-3.3]. */
export function publishHeader(topic: string, declaredBodyBytes: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), varint(declaredBodyBytes), str(topic)]);
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves with the time (ms since `since`) at which the socket closed. */
export function closed(socket: Socket, since = Date.now()): Promise<number> {
  socket.on('error', () => {}); // a reset from the broker is the expected way out
  socket.resume(); // read (and drop) what arrives, or the broker's FIN is never seen
  if (socket.destroyed || socket.closed) return Promise.resolve(Date.now() - since);
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - since)));
}

/** The CONNACK return code the broker answered with, or null if it closed without one. */
export function connackCode(socket: Socket): Promise<number | null> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got[0] === 0x20) {
        socket.off('data', onData);
        resolve(got[3]!);
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.once('close', () => resolve(null));
  });
}
