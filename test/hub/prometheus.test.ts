// GET /metrics parsed by a real Prometheus parser (Debian's python3-prometheus-client,
// `text_string_to_metric_families`) and compared with what the store holds.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../hub/integrations/prometheus.ts';
import { RateMeter } from '../../hub/hub-health.ts';
import { RateTotals } from '../../hub/integrations/rate-totals.ts';
import { METRIC_SPECS } from '../../protocol/index.ts';
import type { SeriesMetric } from '../../shared/api-types.ts';
import { fakeAgentClient, publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

interface Family {
  name: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const PARSER = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": fam.name, "type": fam.type,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in fam.samples]})
print(json.dumps(out))
`;

/** Parses with the reference client library; it throws on anything outside the text format. */
function parseExposition(text: string): Family[] {
  // /usr/bin/python3: Debian's interpreter, where apt put python3-prometheus-client.
  const out = execFileSync('/usr/bin/python3', ['-c', PARSER], { input: text, encoding: 'utf8' });
  return JSON.parse(out) as Family[];
}

describe('GET /metrics', () => {
  it("exposes every node's latest values and the hub's health, valid for a real parser", async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url);
    const client = await fakeAgentClient(url);
    const t0 = Date.now() - 10_000;
    const own = [{ name: 'queue_depth', labels: { queue: 'mail', node: 'relay' }, value: 7 }];
    await publishNode(client, 'pi-kitchen', [sampleAt(1, t0, { series: own }), sampleAt(2, t0 + 1000, { cpu_pct: 57.5, temp_c: 61.2, series: own })]);
    const noTemp = sampleAt(1, t0, { cpu_pct: 3.25 });
    delete noTemp.temp_c;
    await publishNode(client, 'ci-runner.7', [noTemp], 'offline');
    await waitFor('3 samples stored', () => hub.ingest.stats.stored >= 3);
    await waitFor('statuses', async () => (await hub.store.listNodes()).filter((n) => n.status !== 'unknown').length === 2);

    const res = await fetch(`${api}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    const byName = new Map(families.map((f) => [f.name, f]));
    const value = (family: string, labels: Record<string, string> = {}) =>
      byName.get(family)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    // Every online node's latest values, as stored, named and scaled as the registry says; a rate
    // is a counter (the parser strips `_total` from counter family names) of rate × time between samples.
    const nodes = await hub.store.listNodes();
    const kitchen = nodes.find((n) => n.name === 'pi-kitchen')!;
    for (const m of METRIC_SPECS) {
      const metric = m.name as SeriesMetric;
      const stored = kitchen.latest?.[metric];
      if (m.kind === 'rate') {
        const family = m.prometheus.name.replace(/_total$/, '');
        expect(byName.get(family)?.type, m.prometheus.name).toBe('counter');
        // pi-kitchen's two samples are 1 s apart: the second one's rate for one second.
        expect(value(family, { node: 'pi-kitchen' }), m.prometheus.name).toBe(Math.round(stored!));
        continue;
      }
      expect(byName.get(m.prometheus.name)?.type, m.prometheus.name).toBe('gauge');
      const exposed = value(m.prometheus.name, { node: 'pi-kitchen' });
      if (stored === undefined) expect(exposed, `${m.prometheus.name} absent`).toBeUndefined();
      else expect(exposed, m.prometheus.name).toBeCloseTo(stored * (m.prometheus.scale ?? 1), 6);
    }
    expect(value('remonitor_node_cpu_busy_ratio', { node: 'pi-kitchen' })).toBe(0.575);
    expect(value('remonitor_node_cpu_temperature_celsius', { node: 'pi-kitchen' })).toBe(61.2);
    // Labelled: each core, mount and interface of the newest sample, a node's own metric as remonitor_custom_*.
    const detail = (await hub.store.nodeDetail('pi-kitchen'))!.sample!;
    detail.cpu_core_pct!.forEach((pct, cpu) =>
      expect(value('remonitor_node_cpu_core_busy_ratio', { node: 'pi-kitchen', cpu: String(cpu) })).toBeCloseTo(pct / 100, 6),
    );
    for (const f of detail.filesystems!) {
      expect(value('remonitor_node_filesystem_used_ratio', { node: 'pi-kitchen', mountpoint: f.mount })).toBeCloseTo(f.used_pct / 100, 6);
      expect(value('remonitor_node_filesystem_size_bytes', { node: 'pi-kitchen', mountpoint: f.mount })).toBe(f.size_bytes);
    }
    expect(byName.get('remonitor_node_network_interface_receive_bytes')?.type).toBe('counter');
    for (const n of detail.net!) expect(value('remonitor_node_network_interface_receive_bytes', { node: 'pi-kitchen', interface: n.iface })).toBe(n.rx_bps); // one second of it
    expect(value('remonitor_custom_queue_depth', { node: 'pi-kitchen', queue: 'mail', exported_node: 'relay' })).toBe(7);

    // An offline node's last values are not current: only up and last seen remain.
    const offline = families
      .flatMap((f) => f.samples)
      .filter((s) => s.labels['node'] === 'ci-runner.7')
      .map((s) => s.name);
    expect(offline.sort()).toEqual(['remonitor_node_last_seen_seconds', 'remonitor_node_up']);
    for (const node of nodes) {
      expect(value('remonitor_node_up', { node: node.name })).toBe(node.status === 'online' ? 1 : 0);
      expect(value('remonitor_node_last_seen_seconds', { node: node.name })).toBe(node.last_seen_ms! / 1000);
    }

    // Hub health: the parser strips `_total` from counter family names.
    expect(byName.get('remonitor_hub_samples_received')?.type).toBe('counter');
    expect(value('remonitor_hub_samples_received')).toBe(hub.ingest.stats.received);
    expect(value('remonitor_hub_samples_stored')).toBe(hub.ingest.stats.stored);
    expect(value('remonitor_hub_messages_rejected')).toBe(0);
    expect(value('remonitor_hub_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(value('remonitor_hub_ingest_rate')).toBeGreaterThanOrEqual(0);
    expect(value('remonitor_hub_db_size_bytes')).toBeGreaterThan(4096);
    expect(value('remonitor_hub_nodes')).toBe(2);
  });

  it('counts rejected messages by reason and escapes label values', async () => {
    const text = renderPrometheus([], {
      received: 5,
      stored: 3,
      duplicates: 1,
      rejected: 2,
      rejectedByReason: { 'sample: not valid "CBOR"\\x': 2 },
      ingestRatePerS: 1.5,
      queueDepth: 0,
      dbBytes: null,
    });
    const families = parseExposition(text);
    const reasons = families.find((f) => f.name === 'remonitor_hub_messages_rejected_by_reason')!;
    expect(reasons.samples[0]!.labels['reason']).toBe('sample: not valid "CBOR"\\x');
    expect(families.find((f) => f.name === 'remonitor_hub_db_size_bytes')).toBeUndefined();
  });

  it('measures the ingest rate over a sliding window (clock injected)', () => {
    let now = 0;
    const meter = new RateMeter(10_000, () => now);
    expect(meter.rate(0)).toBe(0);
    for (let i = 1; i <= 20; i++) {
      now = i * 1000;
      meter.rate(i * 50);
    }
    now = 21_000;
    expect(meter.rate(21 * 50)).toBeCloseTo(50, 6);
  });
});

describe('the exposition follows Prometheus naming conventions', () => {
  it.each(METRIC_SPECS.map((m) => [m.prometheus.name, m] as const))('%s', (name, m) => {
    expect(name).toMatch(/^remonitor_node_[a-z][a-z0-9_]*$/);
    // Base units in the name, never the wire's shorthand (_pct, _bps, _c, _s).
    expect(name).not.toMatch(/_(pct|bps|c|s)$/);
    if (m.kind === 'rate') expect(name, 'a counter ends in _total').toMatch(/_bytes_total$/);
    else expect(name, 'only counters end in _total').not.toMatch(/_total$/);
    if (m.unit === 'percent') expect([name, m.prometheus.scale]).toEqual([expect.stringMatching(/_ratio$/), 0.01]);
    if (m.unit === 'bytes') expect(name).toMatch(/_bytes$/);
    if (m.unit === 'celsius') expect(name).toMatch(/_celsius$/);
    if (m.unit === 'seconds') expect(name).toMatch(/_seconds$/);
  });
});

describe('RateTotals', () => {
  it("adds rate × time between a node's samples, skipping replays, repeats and long silences", () => {
    const totals = new RateTotals();
    const at = (ts_ms: number, disk_read_bps: number) => ({ ts_ms, disk_read_bps });
    expect(totals.total('pi', 'disk_read_bps')).toBeUndefined();
    totals.add('pi', at(0, 999)); // the first sample: nothing to multiply its rate by
    expect(totals.total('pi', 'disk_read_bps')).toBe(0);
    totals.add('pi', at(2000, 100)); // 100 B/s for 2 s
    totals.add('pi', at(1000, 5000)); // replayed, older: already counted
    totals.add('pi', at(2000, 5000)); // the same time again
    totals.add('pi', at(3000, 50)); // 50 B/s for 1 s
    expect(totals.total('pi', 'disk_read_bps')).toBe(250);
    totals.add('pi', at(3000 + 10 * 60_000, 1000)); // after 10 min of silence: not bridged
    totals.add('pi', at(4000 + 10 * 60_000, 10)); // 10 B/s for 1 s
    expect(totals.total('pi', 'disk_read_bps')).toBe(260);
    expect(totals.total('pi', 'cpu_pct'), 'not a rate').toBeUndefined();
  });
});
