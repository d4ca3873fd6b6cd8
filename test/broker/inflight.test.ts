// The cap on inbound QoS 2 messages awaiting PUBREL (Aedes `maxInflightInbound`): a client that
// keeps sending QoS 2 PUBLISHes and never releases them is disconnected at the cap.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { cleanup, quietLog, runCleanups } from '../helpers/parts.ts';
import { closed, connectPacket, openSocket, varint } from './raw-mqtt.ts';

afterEach(runCleanups);

/** A QoS 2 PUBLISH [MQTT-3.3.1-2] with a tiny payload. */
function publishQos2(topic: string, packetId: number): Buffer {
  const t = Buffer.from(topic);
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from([packetId >> 8, packetId & 0xff]), Buffer.from('x')]);
  return Buffer.concat([Buffer.from([0x34]), varint(body.length), body]);
}

describe('in-flight QoS 2 cap', () => {
  it.each([
    [5, 5, false],
    [5, 6, true],
  ])('cap %i, %i unreleased QoS 2 messages → disconnected: %s', async (cap, sent, cut) => {
    const broker = new EmbeddedBroker({ port: 0, log: quietLog, limits: { maxInflightInbound: cap } });
    await broker.start();
    cleanup(() => broker.stop());
    const socket = await openSocket(broker.port);
    cleanup(() => {
      socket.destroy();
    });
    const done = closed(socket);
    socket.write(connectPacket('hoarder'));
    await sleep(50);
    for (let id = 1; id <= sent; id++) socket.write(publishQos2('remonitor/hoarder/metrics', id));
    const outcome = await Promise.race([done.then(() => true), sleep(500).then(() => false)]);
    expect(outcome).toBe(cut);
  });
});
