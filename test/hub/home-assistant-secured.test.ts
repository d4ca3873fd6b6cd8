// Home Assistant on a secured hub, with real parts only: the broker with a real auth.db, the hub
// with its `hub` credential, a real Agent with its node credential (its OS sampler replaced by a
// scripted one, so the test sets the CPU), and an mqtt.js client that does what HA's MQTT
// integration does with a `home-assistant` credential: last will and birth on
// `homeassistant/status`, `homeassistant/#` for discovery, then the topics discovery names.
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { Agent } from '../../edge-agent/agent.ts';
import type { Reading } from '../../edge-agent/sampler.ts';
import { discoveryTopic, type HaState } from '../../hub/integrations/home-assistant.ts';
import { HubService, type HubOptions } from '../../cli/hub-service.ts';
import { topics, type NodeInfo } from '../../protocol/index.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import { realisticPi4Sample } from '../fixtures/realistic-sample.ts';
import { cleanup, quietLog, runCleanups, tempDir, waitFor } from '../helpers/parts.ts';
import { scriptedSampler } from '../helpers/stub-sampler.ts';

afterEach(runCleanups);

const NODE = 'pi-ha';
const SAMPLE_MS = 200;
/** HA's defaults: birth `online` and last will `offline`, both on homeassistant/status. */
const HA_WILL = { topic: 'homeassistant/status', payload: Buffer.from('offline'), qos: 0 as const, retain: false };

const birthRecord = async (): Promise<NodeInfo> => ({
  v: 1,
  agent_version: '9.9.9-test',
  hostname: NODE,
  os: 'Stub OS',
  kernel: '6.1',
  arch: 'arm64',
  cpu_model: 'Cortex-A72',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: 0,
  interval_ms: SAMPLE_MS,
});

interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  atMs: number;
}

/** Broker with credentials, hub, and an agent sampling every 200 ms whose CPU the test sets. */
async function securedFleet(hubOptions: Partial<HubOptions>) {
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  const credentials = new MqttCredentials(db);
  const token = {
    hub: credentials.add('hub', 'hub'),
    node: credentials.add(NODE, 'node'),
    homeAssistant: credentials.add('homeassistant', 'home-assistant'),
    viewer: credentials.add('dash', 'viewer'),
  };
  // The broker's log, kept: a denial names what was refused and what to do.
  const brokerLines: { msg: string; reason?: string }[] = [];
  const brokerLog = pino({ level: 'info', base: undefined }, { write: (line: string) => void brokerLines.push(JSON.parse(line)) });
  const broker = new EmbeddedBroker({ port: 0, log: brokerLog, credentials });
  await broker.start();
  cleanup(() => broker.stop());
  const url = `mqtt://127.0.0.1:${broker.port}`;

  const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, username: 'hub', password: token.hub, homeAssistant: true, ...hubOptions });
  await hub.start();
  cleanup(() => hub.stop());

  const cpu = { pct: 10 };
  const reading = (): Reading => {
    const { v: _v, boot: _boot, seq: _seq, ts_ms: _ts, swap_pct: _noSwap, ...rest } = realisticPi4Sample();
    return { ...rest, cpu_pct: cpu.pct };
  };
  const agent = new Agent({
    brokerUrl: url,
    node: NODE,
    intervalMs: SAMPLE_MS,
    processIntervalMs: 60_000,
    sampler: scriptedSampler(reading),
    birthRecord,
    log: quietLog,
    username: NODE,
    password: token.node,
  });
  await agent.start();
  cleanup(() => agent.stop());
  return { url, hub, agent, cpu, token, brokerLines };
}

/** A client as HA's MQTT integration connects: its own client id, its last will on homeassistant/status. */
async function connectAs(url: string, username: string, password: string, extra: IClientOptions = {}): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: `homeassistant-${randomBytes(4).toString('hex')}`,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    will: HA_WILL,
    ...extra,
  });
  cleanup(() => client.endAsync(true));
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload, retain: packet.retain, atMs: Date.now() }));
  return { client, received };
}

/** SUBACK codes for `filters`: the granted QoS, or 128 (0x80) for a refusal. */
async function suback(client: MqttClient, filters: string[]): Promise<number[]> {
  return client.subscribeAsync(filters, { qos: 0 }).then(
    (granted) => granted.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
  );
}

const json = <T>(m: Received): T => JSON.parse(m.payload.toString('utf8')) as T;
/** The states received, with when and whether retained (`seen`, beside the payload's own fields). */
const statesOf = (received: Received[]) =>
  received.filter((m) => m.topic === haTopics.state(NODE)).map((m) => ({ ...json<HaState>(m), seen: { atMs: m.atMs, retain: m.retain } }));

describe('Home Assistant on a secured hub', () => {
  it('a home-assistant client subscribes, sends its birth, gets discovery again and the states it names; a viewer cannot', async () => {
    const hubLines: { msg: string }[] = [];
    const hubLog = pino({ level: 'info', base: undefined }, { write: (line: string) => void hubLines.push(JSON.parse(line)) });
    const { url, hub, token, brokerLines } = await securedFleet({ homeAssistantIntervalMs: 1000, alarms: false, log: hubLog });

    // The viewer, the obvious credential before this role: refused at CONNECT for HA's default will,
    // and without a will it may not read discovery. The broker's log says which role to use.
    const refused = await mqtt.connectAsync(url, { protocolVersion: 4, username: 'dash', password: token.viewer, reconnectPeriod: 0, will: HA_WILL }).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(refused).toBe(5);
    const { client: viewer } = await connectAs(url, 'dash', token.viewer, { will: undefined });
    expect(await suback(viewer, ['homeassistant/#'])).toEqual([128]);
    expect(brokerLines.filter((l) => /denied/.test(l.msg)).map((l) => l.reason)).toEqual([
      expect.stringMatching(/last will .*--role home-assistant/),
      expect.stringMatching(/viewer may not subscribe .*--role home-assistant/),
    ]);

    const ha = await connectAs(url, 'homeassistant', token.homeAssistant);
    expect(await suback(ha.client, ['homeassistant/#'])).toEqual([0]);
    // The announcement that follows the first sample leaves out the swap sensor (this node reports none).
    const settled = await waitFor('discovery after the first sample', () =>
      ha.received.find((m) => m.topic === discoveryTopic(NODE) && !('remonitor_pi-ha_swap_pct' in json<{ cmps: object }>(m).cmps)),
    );
    const config = json<{ state_topic: string; cmps: Record<string, { p: string; availability_topic?: string }> }>(settled);
    expect(config.state_topic).toBe(haTopics.state(NODE));
    // What HA subscribes to next: the state topic and every availability topic discovery names.
    const named = [...new Set([config.state_topic, ...Object.values(config.cmps).flatMap((c) => (c.availability_topic ? [c.availability_topic] : []))])];
    expect(named).toEqual([haTopics.state(NODE), topics.status(NODE)]);
    expect(await suback(ha.client, named)).toEqual([0, 0]);
    await waitFor('a state with values', () => statesOf(ha.received).find((s) => s.status === 'online' && typeof s.cpu_pct === 'number'));

    // HA's birth: acknowledged (PUBACK), the connection stays, and discovery and states come again.
    const discoveriesBefore = ha.received.filter((m) => m.topic === discoveryTopic(NODE)).length;
    const birthAtMs = Date.now();
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor('the hub heard the birth', () => hubLines.some((l) => /home assistant started/.test(l.msg)));
    const again = await waitFor('discovery sent again after the birth', () => ha.received.filter((m) => m.topic === discoveryTopic(NODE))[discoveriesBefore]);
    expect(again.atMs).toBeGreaterThanOrEqual(birthAtMs);
    expect(again.retain).toBe(false); // live, not the retained copy [MQTT-3.3.1-9]
    expect(ha.client.connected).toBe(true);
    expect(brokerLines.filter((l) => /denied/.test(l.msg))).toHaveLength(2); // the viewer's two, nothing for HA
    expect(hub.ingest.stats.rejected).toBe(0);
  });

  it('sends states at the configured interval, not per sample, while the JSON mirror stays per sample', async () => {
    const { url, hub, token } = await securedFleet({ homeAssistantIntervalMs: 1000, jsonMirror: true, alarms: false });
    const ha = await connectAs(url, 'homeassistant', token.homeAssistant);
    await suback(ha.client, [haTopics.state(NODE), topics.metricsJson(NODE)]);
    await waitFor('states flowing', () => statesOf(ha.received).filter((s) => !s.seen.retain).length >= 2);

    // A bounded window: 5 s of samples every 200 ms (about 25) against a state a second (about 5).
    const fromMs = Date.now();
    const storedBefore = hub.ingest.stats.stored;
    await new Promise((r) => setTimeout(r, 5000));
    const stored = hub.ingest.stats.stored - storedBefore;
    const inWindow = (m: { atMs: number }) => m.atMs >= fromMs;
    const states = statesOf(ha.received).filter((s) => inWindow(s.seen));
    const mirrored = ha.received.filter((m) => m.topic === topics.metricsJson(NODE) && inWindow(m));
    expect(stored).toBeGreaterThanOrEqual(12);
    expect(mirrored.length).toBeGreaterThanOrEqual(stored - 2);
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(states.length).toBeLessThanOrEqual(5 + 2); // window / interval, plus the ticks at its two edges
    // Each state carries the newest sample so far, and states are spaced by the interval (a late
    // timer can bring two a little closer, never to the sample rate).
    for (let i = 1; i < states.length; i++) {
      expect(states[i]!.ts_ms!).toBeGreaterThan(states[i - 1]!.ts_ms!);
      expect(states[i]!.seen.atMs - states[i - 1]!.seen.atMs).toBeGreaterThan(500);
    }
  });

  it('sends at once, whatever the interval, when the worst alarm level changes and when the node goes offline', async () => {
    const rules = [{ id: 'cpu', metric: 'cpu_pct', threshold: 90, for: '0s', window: '200ms', horizon: '0', trend_window: '1s' }];
    const { url, hub, agent, cpu, token } = await securedFleet({
      homeAssistantIntervalMs: 3_600_000, // an hour: anything that arrives in this test came at once
      alarms: { tickMs: 100, seedRules: () => rules },
    });
    const ha = await connectAs(url, 'homeassistant', token.homeAssistant);
    await suback(ha.client, [haTopics.state(NODE)]);
    // The node came online and the alarm engine published its (empty) set: each went out at once.
    await waitFor('online, alarm ok', () => statesOf(ha.received).find((s) => s.status === 'online' && s.alarm === 'ok'));

    // Samples alone send nothing within the hour.
    const count = statesOf(ha.received).length;
    const stored = hub.ingest.stats.stored;
    await waitFor('ten more samples stored', () => hub.ingest.stats.stored >= stored + 10);
    expect(statesOf(ha.received)).toHaveLength(count);

    cpu.pct = 97;
    const red = await waitFor('alarm red at once', () => statesOf(ha.received).find((s) => s.alarm === 'red'));
    expect(red.status).toBe('online');
    expect(red.cpu_pct).toBe(97); // the newest values ride along

    await agent.stop(); // publishes `offline`, as its last will would
    const offline = await waitFor('offline at once', () => statesOf(ha.received).find((s) => s.status === 'offline'));
    expect(offline.alarm).toBe('red');

    // A client that subscribes now (HA after a restart) gets the last state at once: it is retained.
    const later = await connectAs(url, 'homeassistant', token.homeAssistant);
    await suback(later.client, [haTopics.state(NODE)]);
    const retained = await waitFor('the retained state', () => statesOf(later.received)[0]);
    expect(retained).toMatchObject({ seen: { retain: true }, status: 'offline', alarm: 'red', node: NODE });
  });
});
