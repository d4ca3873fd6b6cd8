// `remonitor sub [TOPIC]`: the live stream decoded, one JSON object per line, for people debugging
// with a terminal (and for piping into jq). CBOR samples and birth records are decoded; anything
// that does not decode is shown with the reason instead of stopping the stream.
import mqtt from 'mqtt';
import { decodeInfo, decodeSample, parseTopic, TOPIC_ROOT } from '../protocol/index.ts';
import { untilSignal } from '../edge-agent/main.ts';
import { describeOptions, resolveOptions, textOption, valueOption } from '../shared/options.ts';
import { brokerUrl, wholeNumber } from '../shared/option-schemas.ts';

export const subSpec = {
  broker: valueOption({ flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', schema: brokerUrl }),
  username: textOption('username', 'MQTT username'),
  password: textOption('password', 'MQTT password'),
  count: valueOption({ flag: 'count', help: 'exit after this many messages (0: run until Ctrl-C)', default: 0, schema: wholeNumber }),
};

export const SUB_USAGE = `remonitor sub [TOPIC]: print the live stream as JSON lines (default topic ${TOPIC_ROOT}/#)\n${describeOptions(subSpec)}`;

export interface DecodedMessage {
  topic: string;
  retained: boolean;
  node?: string;
  channel?: string;
  payload?: unknown;
  error?: string;
}

/** Decodes one message by its topic; never throws. */
export function decodeMessage(topic: string, payload: Buffer, retained: boolean): DecodedMessage {
  const parsed = parseTopic(topic);
  const base: DecodedMessage = { topic, retained, ...(parsed ? { node: parsed.node, channel: parsed.channel } : {}) };
  try {
    if (parsed?.channel === 'metrics') return { ...base, payload: decodeSample(payload) };
    if (parsed?.channel === 'info') return { ...base, payload: decodeInfo(payload) };
    const text = payload.toString('utf8');
    try {
      return { ...base, payload: JSON.parse(text) as unknown };
    } catch {
      // Plain text (status: online/offline) stays text; binary is shown as base64.
      return /^[\x20-\x7e\s]*$/.test(text) ? { ...base, payload: text } : { ...base, payload: { base64: payload.toString('base64') } };
    }
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
}

export async function runSub(argv: string[]): Promise<number> {
  const { values: o, positionals } = resolveOptions(subSpec, argv);
  if (positionals.length > 1) throw new Error(`one topic at most, got ${positionals.length}: ${positionals.join(' ')}`);
  const topic = positionals[0] ?? `${TOPIC_ROOT}/#`;
  const client = await mqtt.connectAsync(o.broker, {
    username: o.username,
    password: o.password,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  let seen = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  client.on('message', (t, payload, packet) => {
    if (o.count > 0 && seen >= o.count) return;
    seen++;
    process.stdout.write(`${JSON.stringify(decodeMessage(t, payload, packet.retain))}\n`);
    if (o.count > 0 && seen >= o.count) finish();
  });
  client.on('error', (err) => console.error(`remonitor sub: ${err.message}`));
  await client.subscribeAsync(topic, { qos: 0 });
  console.error(`remonitor sub: listening on ${o.broker} to ${topic} (Ctrl-C to stop)`);
  await Promise.race([done, untilSignal()]);
  await client.endAsync();
  return 0;
}
