// The agent's MQTT client. For a plain mqtt:// (tcp://) broker, the client is built on a net
// socket of our own: mqtt.connect() loads every transport it knows on its first call (ws with
// http, https and zlib; tls; socks with dns and dgram), which costs the agent about 8 MiB of
// resident memory for code it never runs. Every other case (mqtts, ws, wss, a client
// certificate, a SOCKS proxy) goes through mqtt.connect() unchanged.
import { createConnection } from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

const DEFAULT_PORT = 1883;

/** Connects like `mqtt.connect(brokerUrl, options)`, loading only what the URL's transport needs. */
export function connectBroker(brokerUrl: string, options: IClientOptions): MqttClient {
  const url = new URL(brokerUrl);
  const plain = url.protocol === 'mqtt:' || url.protocol === 'tcp:';
  // mqtt.connect upgrades to TLS when given a client certificate, and honours this variable.
  if (!plain || (options.cert && options.key) || process.env.MQTTJS_SOCKS_PROXY) return mqtt.connect(brokerUrl, options);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost'; // IPv6 literals come bracketed
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  // As mqtt.connect: credentials in the URL win over the options, and ?clientId= names the client.
  const username = url.username ? decodeURIComponent(url.username) : options.username;
  const password = url.password ? decodeURIComponent(url.password) : options.password;
  const clientId = url.searchParams.get('clientId') ?? options.clientId;
  const client = new MqttClient(() => createConnection({ host, port }), {
    ...options,
    protocol: 'mqtt',
    host,
    hostname: host,
    port,
    username,
    password,
    clientId,
  });
  client.on('error', () => {}); // as mqtt.connect: an unheard 'error' must not throw; callers add their own
  return client;
}
