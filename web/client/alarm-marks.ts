// Alarm colours and overlays for the fleet and node pages, kept here so those pages need one line
// each: RED/AMBER marks on fleet cards, and on node charts the rule's threshold and, for an AMBER
// alarm, the predicted line to the crossing. Polls GET /api/alarms (alarms change slowly; the
// live stream stays for samples). A hub without alarms answers 404 and nothing is drawn.
import type uPlot from 'uplot';
import type { AlarmInfo, AlarmLevel, AlarmsResponse } from '../../shared/alarm-types.ts';
import type { AlarmRuleInput } from '../../shared/alarm-types.ts';
import { getJson } from './api.ts';
import { fmtDuration } from './format.ts';
import { METRIC_SPECS } from '../../protocol/metrics.ts';

const POLL_MS = 5000;
const RULES_POLL_MS = 60_000;
const RANK: Record<AlarmLevel, number> = { red: 3, offline: 2, amber: 1, ok: 0 };

/** The worst alarm level per node among `alarms`. */
export function worstByNode(alarms: readonly AlarmInfo[]): Map<string, AlarmInfo[]> {
  const byNode = new Map<string, AlarmInfo[]>();
  for (const a of alarms) {
    const list = byNode.get(a.node) ?? [];
    list.push(a);
    byNode.set(a.node, list);
  }
  for (const list of byNode.values()) list.sort((x, y) => RANK[y.state] - RANK[x.state]);
  return byNode;
}

export function describe(a: AlarmInfo): string {
  const what = a.subject ? `${a.rule_id} ${a.subject}` : a.rule_id;
  if (a.state === 'amber' && a.tt_ms != null) return `${what}: AMBER, ${a.threshold} predicted in ${fmtDuration(a.tt_ms / 1000)}`;
  if (a.state === 'offline') return `${what}: offline`;
  return `${what}: ${a.state.toUpperCase()}${a.value == null ? '' : ` at ${Math.round(a.value * 10) / 10} (threshold ${a.threshold})`}`;
}

export function poll(path: string, onData: (alarms: AlarmInfo[]) => void): void {
  let stopped = false;
  const once = async () => {
    try {
      onData((await getJson<AlarmsResponse>(path)).alarms);
    } catch (err) {
      // 404: this hub runs without alarms; anything else: try again at the next poll.
      if ((err as { status?: number }).status === 404) stopped = true;
    }
    if (!stopped) setTimeout(() => void once(), POLL_MS);
  };
  void once();
}

/** Fleet page: `data-alarm` (red | amber) and a title on each card with an active alarm. */
export function markFleetCards(): void {
  poll('/api/alarms', (alarms) => {
    const byNode = worstByNode(alarms.filter((a) => a.state === 'red' || a.state === 'amber'));
    for (const el of document.querySelectorAll<HTMLElement>('.card[data-node]')) {
      const list = byNode.get(el.dataset['node'] ?? '');
      const level = list?.[0]?.state ?? 'ok';
      if (el.dataset['alarm'] !== level) el.dataset['alarm'] = level;
      const title = list ? list.map(describe).join('\n') : '';
      if (el.title !== title) el.title = title;
    }
  });
}

/** Which alarm metrics a node-page chart shows: its group's metrics (protocol/metrics.ts), and each filesystem's use on the disk chart. */
const CHART_METRICS: Record<string, string[]> = {};
for (const m of METRIC_SPECS) if (m.chart) (CHART_METRICS[m.chart.group] ??= []).push(m.name);
CHART_METRICS['disk']?.push('fs_pct');

function globMatch(glob: string, name: string): boolean {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`).test(name);
}

/**
 * Node page: draws each chart's thresholds (dashed red) and, for an AMBER alarm, the predicted
 * line from the newest value to the threshold with the time left. Marks `data-alarm` on the chart
 * panel and on <body>.
 */
export class NodeAlarmOverlay {
  private rules: AlarmRuleInput[] = [];
  private alarms: AlarmInfo[] = [];
  private readonly charts = new Map<string, { u: uPlot; panel: HTMLElement }>();

  constructor(private readonly node: string) {
    poll(`/api/alarms?node=${encodeURIComponent(node)}`, (alarms) => {
      this.alarms = alarms;
      this.refresh();
    });
    const loadRules = async () => {
      try {
        this.rules = (await getJson<{ rules: AlarmRuleInput[] }>('/api/alarms/rules')).rules;
        this.refresh();
        setTimeout(() => void loadRules(), RULES_POLL_MS);
      } catch {
        // no alarms on this hub
      }
    };
    void loadRules();
  }

  attach(key: string, u: uPlot, panel: HTMLElement): void {
    if (!CHART_METRICS[key]) return;
    this.charts.set(key, { u, panel });
    // uPlot keeps its hooks on the instance; adding one after creation is supported by its fire().
    const hooks = u.hooks as Record<string, ((u: uPlot) => void)[] | undefined>;
    (hooks['draw'] ??= []).push((plot) => this.draw(key, plot));
    this.refresh(); // marks the new panel from alarms already polled, and draws
  }

  private refresh(): void {
    const worst = (list: AlarmInfo[]) =>
      list.filter((a) => a.state === 'red' || a.state === 'amber').sort((x, y) => RANK[y.state] - RANK[x.state])[0]?.state ?? 'ok';
    document.body.dataset['alarm'] = worst(this.alarms);
    for (const [key, { u, panel }] of this.charts) {
      const level = worst(this.alarms.filter((a) => CHART_METRICS[key]!.includes(a.metric)));
      if (panel.dataset['alarm'] !== level) panel.dataset['alarm'] = level;
      u.redraw(false);
    }
  }

  private thresholds(key: string): number[] {
    const metrics = CHART_METRICS[key]!;
    const values = this.rules
      .filter((r) => r.enabled !== false && metrics.includes(r.metric) && typeof r.threshold === 'number')
      .filter((r) => (!r.nodes || r.nodes.includes(this.node)) && (!r.node_pattern || globMatch(r.node_pattern, this.node)))
      .map((r) => r.threshold!);
    return [...new Set(values)];
  }

  private draw(key: string, u: uPlot): void {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    // uPlot leaves its axis text settings on the context (right-aligned): set ours.
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    for (const threshold of this.thresholds(key)) {
      const y = u.valToPos(threshold, 'y', true);
      ctx.strokeStyle = 'rgba(185, 28, 28, 0.8)';
      ctx.setLineDash([6 * dpr, 4 * dpr]);
      ctx.lineWidth = dpr;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
      ctx.fillStyle = 'rgba(185, 28, 28, 0.9)';
      ctx.fillText(`threshold ${threshold}`, left + 4 * dpr, y - 4 * dpr);
    }
    // The predicted crossing: from the newest point along the trend to the threshold.
    const xs = u.data[0] as ArrayLike<number>;
    const ys = u.data[1] as ArrayLike<number | null> | undefined;
    const amber = this.alarms.find((a) => a.state === 'amber' && a.tt_ms != null && CHART_METRICS[key]!.includes(a.metric));
    if (amber && ys && xs.length > 0) {
      let i = xs.length - 1;
      while (i > 0 && ys[i] == null) i--;
      const lastX = xs[i]!;
      const lastY = ys[i] ?? amber.value ?? amber.threshold;
      const crossS = Date.now() / 1000 + amber.tt_ms! / 1000;
      const x0 = u.valToPos(lastX, 'x', true);
      const y0 = u.valToPos(lastY, 'y', true);
      const x1 = u.valToPos(crossS, 'x', true);
      const y1 = u.valToPos(amber.threshold, 'y', true);
      ctx.strokeStyle = 'rgba(217, 119, 6, 0.95)';
      ctx.setLineDash([3 * dpr, 3 * dpr]);
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = 'rgba(146, 64, 14, 1)';
      const label = `${amber.threshold} in ${fmtDuration(amber.tt_ms! / 1000)}`;
      const tx = Math.min(Math.max(x1, left + 4 * dpr), left + width - ctx.measureText(label).width - 4 * dpr);
      // Below the threshold line, where the trend comes from; at the right edge when the crossing is beyond it.
      ctx.fillText(label, tx, Math.min(y1 + 14 * dpr, top + height - 4 * dpr));
    }
    ctx.restore();
  }
}
