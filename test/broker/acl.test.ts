// The broker's topic ACL as tables: who may connect with which client id, publish where, subscribe
// to which filter (wildcards included) and leave a will where. Topics are spelled out on purpose:
// the table is the specification.
import { describe, expect, it } from 'vitest';
import type { MqttIdentity } from '../../auth/mqtt-credentials.ts';
import { isReservedTopic, mayConnect, mayPublish, maySubscribe, mayWill, roleHint } from '../../broker/acl.ts';
import { DenialLog } from '../../broker/denial-log.ts';

const A: MqttIdentity = { name: 'A', role: 'node' };
const viewer: MqttIdentity = { name: 'dash', role: 'viewer' };
const operator: MqttIdentity = { name: 'ops', role: 'operator' };
const hub: MqttIdentity = { name: 'hub', role: 'hub' };
const ha: MqttIdentity = { name: 'homeassistant', role: 'home-assistant' };

describe('mayConnect', () => {
  it.each([
    [A, 'A', true],
    [A, 'remonitor-agent-A', true],
    [A, 'B', false],
    [A, 'remonitor-agent-B', false],
    [A, 'remonitor-agent-AB', false],
    [A, 'a', false], // client ids are case-sensitive
    [A, '', false],
    [A, 'aedes_1234', false], // what Aedes names an empty client id
    [hub, 'remonitor-hub-1a2b3c4d', true],
    [viewer, 'anything', true],
    [viewer, 'remonitor-agent-A', false], // would take node A's session over [MQTT-3.1.4-2]
    [operator, 'remonitor-agent-A', false],
    [hub, 'remonitor-agent-A', false],
    [ha, 'homeassistant-1a2b', true], // what HA's MQTT integration picks by default
    [ha, 'remonitor-agent-A', false],
  ])('%o with client id %j → %s', (identity, clientId, expected) => {
    expect(mayConnect(identity, clientId)).toBe(expected);
  });
});

describe('mayPublish', () => {
  it.each([
    // a node: its own six channels, nothing else
    [A, 'remonitor/A/metrics', true],
    [A, 'remonitor/A/json', true], // samples as JSON
    [A, 'remonitor/A/status', true],
    [A, 'remonitor/A/info', true],
    [A, 'remonitor/A/reply', true],
    [A, 'remonitor/A/procs', true],
    [A, 'remonitor/A/cmd', false], // commands come from operators and the hub
    [A, 'remonitor/A/ack', false],
    [A, 'remonitor/A/alarms', false],
    [A, 'remonitor/A/metrics/json', false], // the hub's mirror
    [A, 'remonitor/B/metrics', false],
    [A, 'remonitor/B/status', false],
    [A, 'remonitor/B/json', false],
    [A, 'remonitor/A', false],
    [A, 'remonitor/A/metrics/', false],
    [A, 'remonitor//metrics', false],
    [A, 'homeassistant/sensor/A/config', false],
    [A, '$SYS/x', false],
    // an operator: commands to any node
    [operator, 'remonitor/A/cmd', true],
    [operator, 'remonitor/B/cmd', true],
    [operator, 'remonitor/A/metrics', false],
    [operator, 'remonitor/A/ack', false],
    [operator, 'remonitor/A/cmd/x', false],
    [operator, 'remonitor/a b/cmd', false], // not a node name
    [operator, 'other/A/cmd', false],
    [operator, '$SYS/x', false],
    // a viewer publishes nothing
    [viewer, 'remonitor/A/cmd', false],
    [viewer, 'remonitor/A/metrics', false],
    [viewer, 'x', false],
    // Home Assistant: its birth message, nothing else
    [ha, 'homeassistant/status', true],
    [ha, 'homeassistant/status/x', false],
    [ha, 'homeassistant/device/remonitor_A/config', false], // discovery comes from the hub
    [ha, 'homeassistant', false],
    [ha, 'remonitor/A/ha/state', false],
    [ha, 'remonitor/A/cmd', false],
    [ha, '$SYS/x', false],
    // the hub: anything but $ topics
    [hub, 'remonitor/A/ack', true],
    [hub, 'remonitor/A/cmd', true],
    [hub, 'remonitor/A/alarms', true],
    [hub, 'remonitor/A/metrics/json', true],
    [hub, 'homeassistant/sensor/A/config', true],
    [hub, '$SYS/x', false],
    [hub, '$share/x', false],
  ])('%o → %j: %s', (identity, topic, expected) => {
    expect(mayPublish(identity, topic)).toBe(expected);
  });
});

describe('maySubscribe', () => {
  it.each([
    // a node: exactly its own cmd and ack
    [A, 'remonitor/A/cmd', true],
    [A, 'remonitor/A/ack', true],
    [A, 'remonitor/A/metrics', false],
    [A, 'remonitor/B/cmd', false],
    [A, 'remonitor/+/cmd', false], // covers every node's commands
    [A, 'remonitor/A/+', false], // covers its metrics… and would read what it may not
    [A, 'remonitor/A/#', false],
    [A, 'remonitor/#', false],
    [A, '#', false],
    [A, '+/A/cmd', false],
    [A, '+/+/+', false],
    [A, '$SYS/#', false],
    // operator and viewer: anything under remonitor/, wildcards included
    [operator, 'remonitor/#', true],
    [operator, 'remonitor/+/metrics', true],
    [operator, 'remonitor/A/reply', true],
    [operator, 'remonitor', false],
    [operator, '#', false], // would also read homeassistant/ and everything else
    [operator, '+/A/cmd', false],
    [operator, '$SYS/#', false],
    [operator, 'homeassistant/#', false],
    [viewer, 'remonitor/#', true],
    [viewer, 'remonitor/+/status', true],
    [viewer, '#', false],
    [viewer, 'remonitorx/#', false],
    [viewer, 'homeassistant/#', false],
    // Home Assistant: remonitor/ and its discovery prefix (birth topic included)
    [ha, 'homeassistant/#', true],
    [ha, 'homeassistant/+/+/config', true],
    [ha, 'homeassistant/status', true],
    [ha, 'remonitor/A/ha/state', true],
    [ha, 'remonitor/+/status', true],
    [ha, 'remonitor/#', true],
    [ha, 'homeassistantx/#', false],
    [ha, '+/status', false], // would match other roots
    [ha, '#', false],
    [ha, '$SYS/#', false],
    // the hub: anything
    [hub, '#', true],
    [hub, 'remonitor/+/metrics', true],
    [hub, 'homeassistant/status', true],
    [hub, '$SYS/#', true],
  ])('%o → %j: %s', (identity, filter, expected) => {
    expect(maySubscribe(identity, filter)).toBe(expected);
  });
});

describe('mayWill', () => {
  it.each([
    [A, 'remonitor/A/status', true],
    [A, 'remonitor/B/status', false],
    [A, 'remonitor/A/metrics', false],
    [A, 'remonitor/A/cmd', false],
    [A, '$SYS/x', false],
    [viewer, 'remonitor/A/status', false],
    [operator, 'remonitor/A/cmd', false],
    [hub, 'remonitor/hub/status', true],
    [hub, '$SYS/hub', false],
    [ha, 'homeassistant/status', true], // HA's default last will, `offline`
    [ha, 'homeassistant/other', false],
    [ha, 'remonitor/A/status', false],
    [viewer, 'homeassistant/status', false],
  ])('%o → %j: %s', (identity, topic, expected) => {
    expect(mayWill(identity, topic)).toBe(expected);
  });
});

describe('roleHint', () => {
  it('points Home Assistant on the wrong credential to its role, and says nothing otherwise', () => {
    expect(roleHint(viewer, 'homeassistant/#')).toMatch(/--role home-assistant/);
    expect(roleHint(operator, 'homeassistant/status')).toMatch(/--role home-assistant/);
    expect(roleHint(null, 'homeassistant/status')).toMatch(/--role home-assistant/);
    expect(roleHint(ha, 'homeassistant/device/x/config')).toBe('');
    expect(roleHint(viewer, 'remonitor/A/cmd')).toBe('');
  });
});

describe('isReservedTopic', () => {
  it.each([
    ['$SYS/broker/heartbeat', true],
    ['$SYS', true],
    ['$anything', true],
    ['remonitor/A/metrics', false],
    ['SYS/x', false],
  ])('%j → %s', (topic, expected) => expect(isReservedTopic(topic)).toBe(expected));
});

describe('DenialLog', () => {
  it('logs a few lines per key and window, says when it goes quiet, and starts again next window', () => {
    const log = new DenialLog({ linesPerWindow: 3, windowMs: 1000, maxKeys: 100 });
    expect([0, 1, 2, 3, 4].map((t) => log.verdict('A', t))).toEqual(['log', 'log', 'log-and-suppress', 'quiet', 'quiet']);
    expect(log.verdict('B', 5)).toBe('log'); // another client is not silenced by A's flood
    expect(log.verdict('A', 1000)).toBe('log');
  });

  it('remembers a bounded number of keys', () => {
    const log = new DenialLog({ linesPerWindow: 1, windowMs: 60_000, maxKeys: 10 });
    for (let i = 0; i < 1000; i++) log.verdict(`k${i}`, i);
    expect((log as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(10);
  });
});
