// The node page's containers: one row per container in the node's newest sample (the registry's
// container_* labelled metrics), running first then busiest. A click on a container's CPU or
// memory draws that metric's history in the labelled chart, that container's line alone.
import type { LabelledValue } from '../../protocol/sample.ts';
import type { NodeDetailResponse } from '../../shared/api-types.ts';
import { api } from './api.ts';
import { byId, h, setAttr, setText } from './dom.ts';
import { fmtBytes, fmtPct } from './format.ts';

/** The page's stream carries no per-container values, so the list asks for the newest sample this often while the tab is visible. */
const REFRESH_MS = 10_000;
const LABEL = 'container';

export interface ContainerRow {
  name: string;
  image: string | null;
  /** container_running: true 1, false 0, null when the sample does not say. */
  running: boolean | null;
  cpuPct: number | null;
  memBytes: number | null;
  /** Of its memory limit; null for a container without one. */
  memPct: number | null;
}

/** The containers of a sample's labelled values, running first (then not saying, then stopped), then by CPU, then by name. */
export function containerRows(series: readonly LabelledValue[]): ContainerRow[] {
  const rows = new Map<string, ContainerRow>();
  for (const v of series) {
    if (!v.name.startsWith('container_')) continue;
    const name = v.labels[LABEL];
    if (name === undefined) continue;
    let row = rows.get(name);
    if (!row) rows.set(name, (row = { name, image: null, running: null, cpuPct: null, memBytes: null, memPct: null }));
    row.image ??= v.labels['image'] ?? null;
    if (v.name === 'container_running') row.running = v.value !== 0;
    else if (v.name === 'container_cpu_pct') row.cpuPct = v.value;
    else if (v.name === 'container_mem_bytes') row.memBytes = v.value;
    else if (v.name === 'container_mem_pct') row.memPct = v.value;
  }
  const stateRank = (r: ContainerRow) => (r.running === true ? 0 : r.running === null ? 1 : 2);
  return [...rows.values()].sort((a, b) => stateRank(a) - stateRank(b) || (b.cpuPct ?? -1) - (a.cpuPct ?? -1) || a.name.localeCompare(b.name));
}

export class ContainerList {
  private readonly section = byId('containers');
  private readonly tbody: HTMLTableSectionElement;
  private sampleTs = -Infinity;

  /** `pick` draws a metric's history for one container (the labelled chart's show()). */
  constructor(
    private readonly node: string,
    private readonly pick: (metric: string, focus: Record<string, string>) => void,
  ) {
    this.tbody = this.section.querySelector('tbody')!;
    this.tbody.addEventListener('click', (e) => {
      const cell = (e.target as Element).closest<HTMLElement>('[data-metric]');
      const name = cell?.closest<HTMLElement>('tr')?.dataset['container'];
      if (cell && name !== undefined) this.pick(cell.dataset['metric']!, { [LABEL]: name });
    });
    setInterval(() => {
      // Only a node that has shown containers is asked again; one that starts some shows them on the next page load.
      if (!document.hidden && !this.section.hidden)
        void api.node(this.node).then(
          (d) => this.update(d),
          () => {},
        );
    }, REFRESH_MS);
  }

  /** Draws the containers of the node's newest sample; the section hides when it has none. */
  update(detail: NodeDetailResponse): void {
    const sample = detail.sample;
    if (sample && sample.ts_ms < this.sampleTs) return;
    this.sampleTs = sample?.ts_ms ?? this.sampleTs;
    const rows = containerRows(sample?.series ?? []);
    this.section.hidden = rows.length === 0;
    setText(byId('containers-meta'), `${rows.filter((r) => r.running).length} of ${rows.length} running`);
    while (this.tbody.rows.length > rows.length) this.tbody.deleteRow(-1);
    rows.forEach((r, i) => {
      let row = this.tbody.rows[i];
      if (!row) {
        row = h(
          'tr',
          {},
          h('td', { class: 'name' }),
          h('td', { class: 'image' }),
          h('td', { class: 'state' }),
          h('td', { class: 'num' }, h('button', { type: 'button', class: 'link-button', 'data-metric': 'container_cpu_pct', title: 'Chart its CPU' })),
          h('td', { class: 'num' }, h('button', { type: 'button', class: 'link-button', 'data-metric': 'container_mem_bytes', title: 'Chart its memory' })),
        );
        this.tbody.append(row);
      }
      setAttr(row, 'data-container', r.name);
      const [name, image, state, cpu, mem] = [...row.cells];
      setText(name!, r.name);
      name!.title = r.image ? `${r.name} (${r.image})` : r.name;
      setText(image!, r.image ?? '—');
      image!.title = r.image ?? '';
      const stateText = r.running === null ? '—' : r.running ? 'running' : 'stopped';
      setText(state!, stateText);
      setAttr(state!, 'data-state', stateText);
      setText(cpu!.firstElementChild!, fmtPct(r.cpuPct));
      setText(mem!.firstElementChild!, r.memPct === null ? fmtBytes(r.memBytes) : `${fmtBytes(r.memBytes)} · ${fmtPct(r.memPct)}`);
    });
  }
}
