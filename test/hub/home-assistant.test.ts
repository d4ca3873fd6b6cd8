// Home Assistant discovery and the JSON mirror, seen by a real MQTT subscriber on a real broker:
// the discovery payloads carry the keys HA's device-based discovery requires, and the state
// topic they name carries JSON with the values the templates read. (On a broker with
// credentials, and the state's rate: home-assistant-secured.test.ts.)
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { ALARM_LEVELS, discoveryPayload, discoveryTopic, haState, worstAlarmLevel } from '../../hub/integrations/home-assistant.ts';
import { parseTopic, topics } from '../../protocol/index.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import { fakeAgentClient, publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

async function startHubWith(url: string, options: { jsonMirror?: boolean; homeAssistant?: boolean; homeAssistantIntervalMs?: number }): Promise<HubService> {
  const hub = new HubService({ brokerUrl: url, dataDir: tempDir(), httpPort: 0, log: quietLog, ...options });
  await hub.start();
  cleanup(() => hub.stop());
  return hub;
}

async function subscriber(url: string, topic: string) {
  const client = await connectAsync(url, { protocolVersion: 4 });
  cleanup(() => client.endAsync());
  const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  client.on('message', (t, payload, packet) => messages.push({ topic: t, payload, retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return messages;
}

describe('Home Assistant discovery', () => {
  it('publishes one retained whole-device config per node with the required keys, state on its own topic', async () => {
    const { url } = await startBroker();
    const hub = await startHubWith(url, { homeAssistant: true, homeAssistantIntervalMs: 1000 });
    const mirrored = await subscriber(url, 'remonitor/+/metrics/json');
    const agent = await fakeAgentClient(url);
    const noSwap = sampleAt(1, Date.now() - 2000, { cpu_pct: 12.5 });
    delete noSwap.swap_pct;
    // The node is announced when its status arrives, with every sensor, and again once its first
    // sample shows which it has: wait for that second announcement (it is published asynchronously).
    const live = await subscriber(url, 'homeassistant/#');
    await publishNode(agent, 'pi.garage', [noSwap]);
    await waitFor('stored', () => hub.ingest.stats.stored >= 1);
    const sensorsOf = (m: { payload: Buffer }) => Object.keys(JSON.parse(m.payload.toString()).cmps as object);
    await waitFor('discovery after the first sample', () => live.some((m) => !sensorsOf(m).includes('remonitor_pi_garage_swap_pct')));

    // A subscriber that arrives later gets the config: it is retained, as HA needs after a restart.
    const configs = await subscriber(url, 'homeassistant/#');
    const message = await waitFor('discovery for pi.garage', () => configs.find((m) => m.topic === discoveryTopic('pi.garage')));
    expect(message.topic).toBe('homeassistant/device/remonitor_pi_garage/config');
    expect(message.retain).toBe(true);
    const config = JSON.parse(message.payload.toString());
    // Required by device-based discovery: dev (with identifiers), o (origin name), cmps (each with p and unique_id).
    expect(config.dev.ids).toEqual(['remonitor_pi_garage']);
    expect(config.dev.name).toBe('pi.garage');
    expect(config.o.name).toBe('remonitor');
    expect(Object.keys(config.cmps).length).toBeGreaterThan(5);
    const uniqueIds = new Set<string>();
    for (const [key, cmp] of Object.entries<Record<string, string>>(config.cmps)) {
      expect(cmp['p'], key).toBe(key.endsWith('_connectivity') ? 'binary_sensor' : 'sensor');
      expect(cmp['unique_id'], key).toMatch(/^remonitor_pi_garage_[a-z0-9_]+$/);
      expect(cmp['value_template'], key).toMatch(/^\{\{ value_json\.[a-z0-9_]+ \}\}$/);
      uniqueIds.add(cmp['unique_id']!);
    }
    expect(uniqueIds.size).toBe(Object.keys(config.cmps).length);
    expect(config.cmps['remonitor_pi_garage_swap_pct']).toBeUndefined(); // the node reports no swap
    expect(config.cmps['remonitor_pi_garage_temp_c']).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C' });
    // The metric sensors are available while the node's own retained status says online; its
    // connectivity and alarm level always are (offline is their state, not "unavailable").
    const metricSensors = Object.entries<Record<string, string>>(config.cmps).filter(([, cmp]) => cmp['state_class'] === 'measurement');
    expect(metricSensors.length).toBe(Object.keys(config.cmps).length - 2);
    for (const [key, cmp] of metricSensors) {
      expect(cmp, key).toMatchObject({ availability_topic: topics.status('pi.garage'), payload_available: 'online', payload_not_available: 'offline' });
    }
    expect(config.cmps['remonitor_pi_garage_connectivity']).toMatchObject({ device_class: 'connectivity', payload_on: 'online', payload_off: 'offline' });
    expect(config.cmps['remonitor_pi_garage_connectivity'].availability_topic).toBeUndefined();
    expect(config.cmps['remonitor_pi_garage_alarm']).toMatchObject({ device_class: 'enum', options: ['ok', 'amber', 'offline', 'red'] });
    expect(config.cmps['remonitor_pi_garage_alarm'].availability_topic).toBeUndefined();
    expect(config.state_topic).toBe(haTopics.state('pi.garage'));
    expect(config.state_topic).toBe('remonitor/pi.garage/ha/state');

    // The state topic really carries JSON that the templates can read.
    const states = await subscriber(url, config.state_topic);
    await publishNode(agent, 'pi.garage', [sampleAt(2, Date.now() - 1000, { cpu_pct: 44.5 })]);
    const state = await waitFor('a JSON state with the new sample', () => states.find((m) => JSON.parse(m.payload.toString()).cpu_pct === 44.5));
    const json = JSON.parse(state.payload.toString());
    expect(json).toMatchObject({ node: 'pi.garage', status: 'online' });
    for (const [key, cmp] of Object.entries<Record<string, string>>(config.cmps)) {
      const field = /value_json\.([a-z0-9_]+)/.exec(cmp['value_template']!)![1]!;
      if (key.endsWith('_connectivity')) expect(json[field]).toBe('online');
      else if (key.endsWith('_alarm')) expect([null, ...ALARM_LEVELS]).toContain(json[field]);
      else expect(typeof json[field], `${field} in the state`).toBe('number');
    }
    // Home Assistant no longer needs the per-sample JSON mirror: it stays off unless asked for.
    expect(mirrored).toEqual([]);
  });

  it('announces nodes already in the store when the hub starts', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const first = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog });
    await first.start();
    const agent = await fakeAgentClient(url);
    await publishNode(agent, 'old-node', [sampleAt(1, Date.now() - 5000)]);
    await waitFor('stored', () => first.ingest.stats.stored >= 1);
    await first.stop();
    // Clear the retained status, so that hub2 hears nothing of old-node from the broker.
    await agent.publishAsync(topics.status('old-node'), '', { qos: 1, retain: true });
    const configs = await subscriber(url, 'homeassistant/#');
    // No agent publishes now: the announcement comes from what the store already knows.
    const hub2 = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, homeAssistant: true });
    await hub2.start();
    cleanup(() => hub2.stop());
    await waitFor('old-node announced', () => configs.find((m) => m.topic === discoveryTopic('old-node')));
  });

  it('states every sensor, null (HA: unknown) for what the node does not report (pure payload)', () => {
    expect(haState('n1', null, null, null)).toMatchObject({ node: 'n1', status: null, alarm: null, ts_ms: null, cpu_pct: null, swap_pct: null });
    expect(haState('n1', 'offline', 'amber', { ts_ms: 5, cpu_pct: 7 })).toMatchObject({
      status: 'offline',
      alarm: 'amber',
      ts_ms: 5,
      cpu_pct: 7,
      swap_pct: null,
    });
  });

  it.each([
    ['{"v":1,"node":"n","alarms":[],"transition":null}', 'ok'],
    ['{"alarms":[{"state":"amber"},{"state":"red"},{"state":"offline"}]}', 'red'],
    ['{"alarms":[{"state":"amber"},{"state":"offline"}]}', 'offline'],
    ['{"alarms":[{"state":"amber"},{"state":"unheard-of"},null]}', 'amber'],
    ['', null], // the retained set cleared
    ['not json', null],
    ['{"v":1}', null],
    ['[]', null],
  ])('worst alarm level of %j is %j', (payload, level) => {
    expect(worstAlarmLevel(Buffer.from(payload))).toBe(level);
  });

  it('offers every sensor before the first sample (pure payload)', () => {
    const payload = discoveryPayload('n1', null, null) as { cmps: Record<string, unknown>; dev: { mdl: string } };
    expect(Object.keys(payload.cmps)).toContain('remonitor_n1_swap_pct');
    expect(payload.dev.mdl).toBe('remonitor node');
  });
});

describe('JSON mirror', () => {
  it('republishes each stored sample as JSON on remonitor/<node>/metrics/json, and the hub ignores it', async () => {
    const { url } = await startBroker();
    const hub = await startHubWith(url, { jsonMirror: true });
    const mirrored = await subscriber(url, 'remonitor/+/metrics/json');
    const discovery = await subscriber(url, 'homeassistant/#');
    const agent = await fakeAgentClient(url);
    const t = Date.now() - 3000;
    await publishNode(agent, 'mirror-me', [sampleAt(1, t, { cpu_pct: 10 }), sampleAt(2, t + 1000, { cpu_pct: 20 })]);
    await waitFor('two mirrored samples', () => mirrored.length >= 2);
    expect(mirrored.map((m) => m.topic)).toEqual([topics.metricsJson('mirror-me'), topics.metricsJson('mirror-me')]);
    const [a, b] = mirrored.map((m) => JSON.parse(m.payload.toString()));
    expect(a).toMatchObject({ node: 'mirror-me', v: 1, seq: 1, ts_ms: t, cpu_pct: 10 });
    expect(b).toMatchObject({ seq: 2, cpu_pct: 20 });
    // The sample's own fields and the dashboard's flat totals, same names and units as the wire.
    expect(b.filesystems[0]).toEqual({ mount: '/', size_bytes: 31_064_162_304, used_bytes: 9_876_543_488, used_pct: 31.8 });
    expect(b.disk_pct).toBe(41.2);
    expect(typeof b.net_rx_bps).toBe('number');
    // The hub does not take its own mirror for a metrics message, and the mirror alone announces nothing.
    expect(parseTopic(topics.metricsJson('mirror-me'))).toBeNull();
    expect(hub.ingest.stats.rejected).toBe(0);
    expect(hub.ingest.stats.received).toBe(2);
    expect(discovery).toEqual([]);
  });

  it('is off by default', async () => {
    const { url } = await startBroker();
    const hub = await startHubWith(url, {});
    const mirrored = await subscriber(url, 'remonitor/+/metrics/json');
    const agent = await fakeAgentClient(url);
    await publishNode(agent, 'quiet', [sampleAt(1, Date.now() - 1000)]);
    await waitFor('stored', () => hub.ingest.stats.stored >= 1);
    // A marker message after the sample: once it arrives, a mirrored sample would have arrived too.
    const marker = await subscriber(url, 'test/marker');
    await agent.publishAsync('test/marker', 'x', { qos: 1 });
    await waitFor('marker', () => marker.length > 0);
    expect(mirrored).toEqual([]);
  });
});
