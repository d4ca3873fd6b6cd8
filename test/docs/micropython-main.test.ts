// examples/micropython/main.py as the board runs it, but on CPython: the board's modules (network,
// esp32, gc's heap figures, umqtt.simple) cannot run here, so fakes named as such stand in for
// them, with known readings. What main.py hands its MQTT client must be what the README promises
// (the node's name as client id and user, the token as password, the last will before connecting,
// a retained online, then samples counting from seq 0) and samples the hub's decoder takes.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSampleJson } from '../../protocol/index.ts';
import { REPO, runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

const EXAMPLE = join(REPO, 'examples/micropython');

// Fakes of the board's modules, installed in sys.modules before main.py imports them.
const RUNNER = `
import json, sys, time, types
calls = []

class FakeMQTTClient:  # stands in for umqtt.simple.MQTTClient
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0):
        calls.append(['init', client_id, server, port, user, password, keepalive])
        self.sock = None
    def set_last_will(self, topic, msg, retain=False, qos=0):
        calls.append(['will', topic.decode(), msg.decode(), retain, qos])
    def connect(self):
        calls.append(['connect'])
    def publish(self, topic, msg, retain=False, qos=0):
        calls.append(['publish', topic.decode(), msg.decode(), retain, qos])
        if sum(1 for c in calls if c[0] == 'publish') == 4:
            raise KeyboardInterrupt  # three samples are enough

class FakeWLAN:  # stands in for network.WLAN, connected
    def __init__(self, interface): pass
    def active(self, on=None): return True
    def isconnected(self): return True
    def connect(self, ssid, password): pass
    def status(self, what): return -61 if what == 'rssi' else 1010

fake_gc = types.ModuleType('gc')
fake_gc.collect = lambda: None
fake_gc.mem_free = lambda: 81234
fake_gc.mem_alloc = lambda: 30000
fake_network = types.ModuleType('network')
fake_network.WLAN, fake_network.STA_IF = FakeWLAN, 0
fake_esp32 = types.ModuleType('esp32')
fake_esp32.raw_temperature = lambda: 120  # °F, as the original ESP32 reports
fake_umqtt = types.ModuleType('umqtt')
fake_simple = types.ModuleType('umqtt.simple')
fake_simple.MQTTClient = FakeMQTTClient
sys.modules.update({'gc': fake_gc, 'network': fake_network, 'esp32': fake_esp32, 'umqtt': fake_umqtt, 'umqtt.simple': fake_simple})
time.sleep = lambda s: None
time.sleep_ms = lambda ms: None
sys.path.insert(0, ${JSON.stringify(EXAMPLE)})
try:
    exec(compile(open(${JSON.stringify(join(EXAMPLE, 'main.py'))}).read(), 'main.py', 'exec'), {'__name__': '__main__'})
except KeyboardInterrupt:
    pass
print(json.dumps(calls))
`;

describe('examples/micropython/main.py', () => {
  it('connects as its node with its last will, says online, and sends samples the hub takes', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'run_main.py'), RUNNER);
    const out = execFileSync('/usr/bin/python3', ['run_main.py'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    const calls = JSON.parse(out.trim().split('\n').at(-1)!) as unknown[][];

    expect(calls.slice(0, 4)).toEqual([
      ['init', 'esp32-kitchen', '192.168.1.10', 1883, 'esp32-kitchen', 'rmt_paste-the-token-it-printed', 30],
      ['will', 'remonitor/esp32-kitchen/status', 'offline', true, 1],
      ['connect'],
      ['publish', 'remonitor/esp32-kitchen/status', 'online', true, 1],
    ]);
    const samples = calls.slice(4);
    expect(samples.map((c) => [c[0], c[1], c[3], c[4]])).toEqual(Array(3).fill(['publish', 'remonitor/esp32-kitchen/json', false, 0]));
    const decoded = samples.map((c) => decodeSampleJson(Buffer.from(c[2] as string)));
    expect(decoded.map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(new Set(decoded.map((s) => s.boot)).size).toBe(1);
    expect(decoded[0]!.boot).toMatch(/^[0-9a-f]{16}$/);
    expect(decoded[0]).toMatchObject({
      v: 1,
      mem_total_bytes: 111_234,
      mem_used_bytes: 30_000,
      mem_available_bytes: 81_234,
      mem_pct: 27, // 30000 / 111234 = 26.97 %, to tenths
      temp_c: 48.9, // 120 °F
      series: [{ name: 'wifi_rssi_dbm', labels: { ssid: 'your-ssid' }, value: -61 }],
    });
    expect(decoded[0]!.ts_ms).toBeUndefined(); // no clock on the board: the hub stores it at its arrival
    expect(samples[0]![2]).toMatch(
      /^\{"v":1,"boot":"[0-9a-f]{16}","seq":0,"mem_total_bytes":111234,"mem_used_bytes":30000,"mem_available_bytes":81234,"mem_pct":27\.0,"uptime_s":\d+,"temp_c":48\.9,"series":\[\["wifi_rssi_dbm",\{"ssid":"your-ssid"\},-61\]\]\}$/,
    );
  });
});
