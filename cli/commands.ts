// The options of each command that runs a server part, and how each is started.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBroker } from '../broker/broker.ts';
import type { Agent } from '../edge-agent/agent.ts';
import * as v from 'valibot';
import { createLogger, logLevel } from '../shared/logger.ts';
import { createAgent, defaultNodeName, interval, untilSignal } from '../edge-agent/main.ts';
import { resolveOptions, switchOption, textOption, valueOption } from '../shared/options.ts';
import { brokerUrl, duration, httpUrl, parsedBy, port } from '../shared/option-schemas.ts';
import { pollStoreIntoFeed } from '../hub/storage/db-poll-feed.ts';
import { pollPgIntoFeed } from '../hub/storage/postgres/pg-fleet-feed.ts';
import { DB_FILE, HubService, isPostgresUrl } from './hub-service.ts';
import { openPgStore, PgStore, redactUrl } from '../hub/storage/postgres/pg-store.ts';
import { cachedCoordinatorLookup } from '../hub/group/group-coordination.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { DEFAULT_RETENTION, parseRetention } from '../hub/storage/rollups.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { createApp } from '../web/app.ts';
import { listen } from '../web/server.ts';
import { integrationSpec } from './integration-options.ts';
import { leakThresholdsOption } from './record.ts';
import { formatDuration } from '../protocol/index.ts';
import { HUB_IDENTITY, insecureOption, openSecurity } from './security.ts';
import { loadTls, tlsSpec } from './tls-options.ts';
import { DEFAULT_STALE_AFTER_MS } from '../web/node-routes.ts';

const portOption = (flag: string, help: string, def: number) => valueOption({ flag, help, default: def, schema: port });
const logOption = valueOption({ flag: 'log-level', help: 'log level', default: 'info', schema: logLevel });
const hostOption = textOption('host', 'address the listeners bind to', '127.0.0.1');
const retentionOption = valueOption({
  flag: 'retention',
  help: 'how long to keep raw data and each rollup tier, e.g. raw=48h,1m=14d,15m=90d,1h=730d',
  default: DEFAULT_RETENTION,
  schema: v.pipe(v.string(), parsedBy(parseRetention)),
});

/** Agents send their unacked samples again after 10 s without progress: acks must come well within that. */
const MAX_ACK_INTERVAL_MS = 5000;
const ackIntervalOption = valueOption({
  flag: 'ack-interval',
  help: 'each node is acked at most this often (0s: after every commit); fewer acks spare small nodes a wake-up each',
  default: 5000,
  schema: v.pipe(
    duration('0s, 1s or 5s'),
    v.maxValue(MAX_ACK_INTERVAL_MS, `must be at most ${formatDuration(MAX_ACK_INTERVAL_MS)}: agents send their samples again after 10 s without an ack`),
  ),
});

/** Where people reach the dashboard: the links in notifications point there. */
const publicUrlOption = valueOption({
  flag: 'public-url',
  help: "the dashboard's address as people reach it (https://monitor.example), for the links in alarm notifications (default: the address this prints)",
  schema: httpUrl,
});

const staleAfterOption = valueOption({
  flag: 'stale-after',
  help: 'a node whose newest sample is older than this is listed as stale (GET /api/nodes), a candidate for remonitor node remove',
  default: DEFAULT_STALE_AFTER_MS,
  schema: v.pipe(duration('30m, 24h or 7d'), v.minValue(1, 'must be a duration such as 30m, 24h or 7d')),
});

/** A SQLite file path or a postgres:// URL; any other scheme is a mistake worth naming. */
const storageOption = valueOption({
  flag: 'storage',
  help: 'where samples are stored: a SQLite file (default: remonitor.db in the data directory) or a postgres://user:password@host/db URL',
  schema: v.pipe(
    v.string(),
    v.check(
      (text) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || isPostgresUrl(text),
      (issue) =>
        `"${/^([a-z][a-z0-9+.-]*):\/\//i.exec(issue.input as string)?.[1]}://" is not a store remonitor knows: give a SQLite file path or a postgres:// URL`,
    ),
    v.check((text) => text.trim() !== '', 'must not be empty'),
  ),
});

/** An MQTT shared-subscription group name: one topic level, no wildcards. */
const groupName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 letters, digits, ".", "_" or "-" (it becomes one topic level of $share/<group>/…)'),
);

export const upSpec = {
  httpPort: portOption('http-port', 'dashboard and API port', 8080),
  mqttPort: portOption('mqtt-port', 'MQTT port of the embedded broker', 1883),
  host: hostOption,
  dataDir: textOption('data-dir', 'where the database lives', './data'),
  retention: retentionOption,
  ackIntervalMs: ackIntervalOption,
  staleAfterMs: staleAfterOption,
  publicUrl: publicUrlOption,
  noAgent: switchOption('no-agent', 'do not monitor this machine'),
  intervalMs: valueOption({ flag: 'interval', help: 'local agent sample interval', default: 1000, schema: interval }),
  leakThresholds: leakThresholdsOption,
  ...integrationSpec,
  insecure: insecureOption,
  ...tlsSpec,
  logLevel: logOption,
};

export const brokerSpec = {
  mqttPort: portOption('mqtt-port', 'MQTT port', 1883),
  wsPort: portOption('ws-port', 'MQTT-over-WebSocket port (path /mqtt)', 9001),
  host: hostOption,
  dataDir: textOption('data-dir', 'where the credentials (auth.db) live', './data'),
  insecure: insecureOption,
  ...tlsSpec,
  logLevel: logOption,
};

export const hubSpec = {
  broker: valueOption({ flag: 'broker', help: 'broker URL', default: 'mqtt://127.0.0.1:1883', schema: brokerUrl }),
  username: textOption('username', 'MQTT username'),
  password: textOption('password', 'MQTT password'),
  dataDir: textOption('data-dir', 'where the database lives', './data'),
  storage: storageOption,
  sharedGroup: valueOption({
    flag: 'shared-group',
    help: 'share ingest with the other hubs of this group through an MQTT 5 shared subscription (an external broker: Mosquitto, EMQX…)',
    schema: groupName,
  }),
  hubId: valueOption({
    flag: 'hub-id',
    help: "this hub's name in its shared group, unique in the group (its MQTT client id is remonitor-hub-<group>-<id>); default: this machine's host name",
    schema: groupName,
  }),
  groupUrl: valueOption({
    flag: 'group-url',
    help: "where the other hubs and web processes of the group reach this hub's API (default: http://<host>:<http port>, the machine's name for 0.0.0.0)",
    schema: httpUrl,
  }),
  retention: retentionOption,
  ackIntervalMs: ackIntervalOption,
  staleAfterMs: staleAfterOption,
  publicUrl: publicUrlOption,
  httpPort: portOption('http-port', 'dashboard and API port', 8080),
  host: hostOption,
  leakThresholds: leakThresholdsOption,
  ...integrationSpec,
  insecure: insecureOption,
  ...tlsSpec,
  logLevel: logOption,
};

export const webSpec = {
  dataDir: textOption('data-dir', 'data directory of a hub', './data'),
  storage: storageOption,
  httpPort: portOption('http-port', 'dashboard and API port', 8080),
  host: hostOption,
  insecure: insecureOption,
  ...tlsSpec,
  logLevel: logOption,
};

/** `remonitor up`: broker, hub, web and an agent for this machine, in one process. */
export async function runUp(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(upSpec, argv);
  const log = createLogger(o.logLevel, 'remonitor');
  const tls = loadTls(o);
  const security = await openSecurity(o, log);
  const broker = new EmbeddedBroker({
    host: o.host,
    port: o.mqttPort,
    log,
    credentials: security.credentials,
    tls: tls ? { ...tls, port: tls.mqttsPort } : undefined,
  });
  await broker.start();
  const mqttHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  const brokerUrlLocal = `mqtt://${mqttHost}:${broker.port}`;
  // Fresh tokens for our own hub and agent at each start: they live in this process only.
  const hubToken = security.credentials?.issue(HUB_IDENTITY, 'hub');
  const hub = new HubService({
    brokerUrl: brokerUrlLocal,
    dataDir: o.dataDir,
    retention: o.retention,
    ackIntervalMs: o.ackIntervalMs,
    staleAfterMs: o.staleAfterMs,
    httpPort: o.httpPort,
    httpHost: o.host,
    log,
    embeddedBroker: broker,
    jsonMirror: o.jsonMirror,
    homeAssistant: o.homeAssistant,
    homeAssistantIntervalMs: o.homeAssistantIntervalMs,
    publicBrokerUrl: o.publicBroker,
    leakThresholds: o.leakThresholds,
    username: hubToken && HUB_IDENTITY,
    password: hubToken,
    webAuth: security.webAuth,
    nodeCredentials: security.credentials ?? undefined,
    tls: tls ?? undefined,
  });
  await hub.start();
  let agent: Agent | null = null;
  if (!o.noAgent) {
    const node = defaultNodeName();
    const agentToken = security.credentials?.issue(node, 'node');
    agent = createAgent(
      // The local agent's spool lives with the hub's data, so one directory holds the whole install.
      {
        brokerUrl: brokerUrlLocal,
        node,
        intervalMs: o.intervalMs,
        processIntervalMs: 5000,
        spoolDir: join(o.dataDir, 'spool', node),
        username: agentToken && node,
        password: agentToken,
      },
      log.child({ part: 'agent' }),
    );
    await agent.start();
  }
  const dashboard = `${tls ? 'https' : 'http'}://${mqttHost}:${hub.httpPort}/`;
  hub.setPublicUrl(o.publicUrl ?? dashboard);
  // Before the dashboard line: whoever sees that line finds the admin made.
  await security.announceAdmin(dashboard);
  // The one line a person needs; on stdout so scripts and tests can read it.
  const mqtts = tls ? `, MQTT over TLS at mqtts://${mqttHost}:${broker.tlsPort}` : '';
  console.log(`remonitor: dashboard at ${dashboard}  (MQTT at ${brokerUrlLocal}${mqtts}, data in ${o.dataDir})`);
  await untilSignal();
  log.info('shutting down');
  await agent?.stop();
  await hub.stop();
  await broker.stop();
  security.close();
  return 0;
}

/** `remonitor broker`: the embedded broker alone. */
export async function runBroker(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(brokerSpec, argv);
  const log = createLogger(o.logLevel, 'broker');
  const tls = loadTls(o);
  const security = await openSecurity(o, log);
  const broker = new EmbeddedBroker({
    host: o.host,
    port: o.mqttPort,
    log,
    credentials: security.credentials,
    tls: tls ? { ...tls, port: tls.mqttsPort } : undefined,
  });
  await broker.start();
  const http = tls ? (await import('node:https')).createServer(tls) : (await import('node:http')).createServer();
  http.on('request', (_req, res) => res.writeHead(426).end('MQTT over WebSocket only, at /mqtt\n'));
  broker.attachWebSocket(http);
  await new Promise<void>((resolve) => http.listen(o.wsPort, o.host, resolve));
  const ws = `${tls ? 'wss' : 'ws'}://${o.host}:${o.wsPort}/mqtt`;
  console.log(`remonitor: broker at mqtt://${o.host}:${broker.port}${tls ? ` and mqtts://${o.host}:${broker.tlsPort}` : ''} and ${ws}`);
  await untilSignal();
  http.close();
  await broker.stop();
  security.close();
  return 0;
}

/** `remonitor hub`: ingest from any broker, plus the web server. */
export async function runHub(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(hubSpec, argv);
  const log = createLogger(o.logLevel, 'hub');
  const tls = loadTls(o);
  const security = await openSecurity(o, log);
  const hubId = o.hubId ?? hostname();
  const hub = await HubService.open({
    brokerUrl: o.broker,
    dataDir: o.dataDir,
    storage: o.storage,
    sharedGroup: o.sharedGroup ? { group: o.sharedGroup, hubId, clientId: `remonitor-hub-${o.sharedGroup}-${hubId}` } : undefined,
    groupApiUrl: o.groupUrl,
    // Supervisors (systemd, compose) restart a hub that exits; it then takes part again.
    onFatal: () => process.exit(1),
    retention: o.retention,
    ackIntervalMs: o.ackIntervalMs,
    staleAfterMs: o.staleAfterMs,
    httpPort: o.httpPort,
    httpHost: o.host,
    log,
    username: o.username,
    password: o.password,
    jsonMirror: o.jsonMirror,
    homeAssistant: o.homeAssistant,
    homeAssistantIntervalMs: o.homeAssistantIntervalMs,
    publicBrokerUrl: o.publicBroker,
    leakThresholds: o.leakThresholds,
    webAuth: security.webAuth,
    tls: tls ?? undefined,
  });
  await hub.start();
  const dashboard = `${tls ? 'https' : 'http'}://${o.host}:${hub.httpPort}/`;
  hub.setPublicUrl(o.publicUrl ?? dashboard);
  const storage = isPostgresUrl(o.storage) ? redactUrl(o.storage) : (o.storage ?? join(o.dataDir, DB_FILE));
  const group = o.sharedGroup ? ` in shared group "${o.sharedGroup}" as ${hubId}` : '';
  await security.announceAdmin(dashboard);
  console.log(`remonitor: hub on ${o.broker}${group}, storing in ${storage}, dashboard at ${dashboard}`);
  await untilSignal();
  await hub.stop();
  security.close();
  return 0;
}

/** `remonitor web`: the dashboard over an existing data directory. */
export async function runWeb(argv: string[]): Promise<number> {
  const { values: o } = resolveOptions(webSpec, argv);
  const log = createLogger(o.logLevel, 'web');
  const tls = loadTls(o);
  const security = await openSecurity(o, log);
  const store = isPostgresUrl(o.storage) ? await openPgStore(o.storage) : openSqliteStore(o.storage ?? join(o.dataDir, DB_FILE));
  const feed = new LiveFeed();
  const onError = (err: Error) => log.warn({ err: err.message }, 'could not read the store for live updates; will retry');
  const stopPolling = store instanceof PgStore ? pollPgIntoFeed(store, feed, 1000, onError) : pollStoreIntoFeed(store, feed, 1000, onError);
  // Over a group's database, alarms, sessions and commands are the coordinating hub's: forwarded there.
  const lookup = store instanceof PgStore ? cachedCoordinatorLookup(store.pool) : null;
  const coordinator = lookup ? async () => (await lookup()) ?? ('none' as const) : undefined;
  const web = await listen(createApp({ store, feed, auth: security.webAuth, coordinator }), o.httpPort, o.host, tls ?? undefined);
  log.info({ dataDir: o.dataDir }, 'serving an existing data directory');
  const dashboard = `${web.scheme}://${o.host}:${web.port}/`;
  await security.announceAdmin(dashboard);
  console.log(`remonitor: dashboard at ${dashboard}`);
  await untilSignal();
  stopPolling();
  await web.close();
  await store.close();
  security.close();
  return 0;
}
