// The fleet page's list (GET /api/nodes?fields=fleet) from stored node rows, decoding of each
// node's stored sample only the fields the page shows: at 1,000 samples/s nearly every node has a
// new one between two page loads, and decoding all of each (per-core, filesystems, interfaces, top
// processes, labelled series) was most of the list's time.
import { combineTags, decodeInfo, decodeSampleFieldsOf, METRICS, SAMPLE_FIELDS, type Sample } from '../../protocol/index.ts';
import { FLEET_INFO_FIELDS, FLEET_POINT_METRICS, type ContainersSummary, type FleetNodeSummary } from '../../shared/api-types.ts';
import { clockSynchronizedOf, containersOf, type NodeRecord } from './node-record.ts';
import { toPoint } from './sample-point.ts';

const keyOf = (name: string): number => {
  const field = SAMPLE_FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`no sample field named ${name}`);
  return field.key;
};

/** The sample's keys the fleet page needs: its time, its metrics' fields (a derived one's list), the labelled series (containers, clock). */
const FLEET_SAMPLE_KEYS: ReadonlySet<number> = new Set([
  keyOf('ts_ms'),
  keyOf('series'),
  ...FLEET_POINT_METRICS.map((name) => {
    const { wire } = METRICS.find((m) => m.name === name)!;
    return 'key' in wire ? wire.key : keyOf(wire.derived.list);
  }),
]);

/** Work done between two pauses of a list, ms: a slice longer holds up every other request. */
const SLICE_MS = 10;
/** Nodes listed between two looks at the clock: few, as a node's first decode runs cold code slowly. */
const NODES_PER_CLOCK_CHECK = 25;

type FleetLatest = FleetNodeSummary['latest'];
type FleetInfo = FleetNodeSummary['info'];

interface FleetDecoded {
  latestBytes: Uint8Array | null;
  latest: FleetLatest;
  containers: ContainersSummary | undefined;
  clockSynchronized: boolean | undefined;
  infoBytes: Uint8Array | null;
  info: FleetInfo;
  agentTags: readonly string[] | undefined;
  hubTagsColumn: string | null;
  tags: string[];
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean => a === b || (a !== null && b !== null && Buffer.compare(a, b) === 0);

/** The fleet page's part of a stored sample: what fleetSummaryOf keeps of summarizeNode's. */
export function fleetPartsOf(bytes: Uint8Array): Pick<FleetDecoded, 'latest' | 'containers' | 'clockSynchronized'> {
  const sample = decodeSampleFieldsOf(bytes, FLEET_SAMPLE_KEYS) as Sample;
  const point = toPoint(sample);
  const latest: NonNullable<FleetLatest> = { ts_ms: point.ts_ms };
  for (const m of FLEET_POINT_METRICS) if (point[m] !== undefined) latest[m] = point[m];
  return { latest, containers: containersOf(sample), clockSynchronized: clockSynchronizedOf(sample) };
}

function fleetInfoOf(bytes: Uint8Array): { info: NonNullable<FleetInfo>; agentTags: readonly string[] | undefined } {
  const full = decodeInfo(bytes);
  const picked: Record<string, unknown> = {};
  for (const f of FLEET_INFO_FIELDS) if (full[f] !== undefined) picked[f] = full[f];
  return { info: picked as NonNullable<FleetInfo>, agentTags: full.tags };
}

/**
 * The fleet list, again and again: as NodeSummaries, each node's blobs are decoded only when their
 * bytes changed since the last list, and then only the fields the page shows. The decoded parts
 * are shared between the lists it returns: callers read them and never change them. Lists may run
 * at once (a page's request while the hub's first list is under way): each keeps what it decodes
 * where the others find it, so a node's bytes are decoded once whichever list comes to it first.
 */
export class FleetSummaries {
  private readonly byNode = new Map<string, FleetDecoded>();

  /** `clock` in ms, injected so tests control how long a slice takes. */
  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** `pause` is awaited whenever a slice of the work has taken SLICE_MS, so other requests are answered meanwhile. */
  async list(rows: readonly NodeRecord[], pause: () => Promise<void>): Promise<FleetNodeSummary[]> {
    const listed = new Set<string>();
    const out: FleetNodeSummary[] = new Array(rows.length);
    let sliceStart = this.clock();
    for (let i = 0; i < rows.length; i++) {
      if (i % NODES_PER_CLOCK_CHECK === 0 && this.clock() - sliceStart > SLICE_MS) {
        await pause();
        sliceStart = this.clock();
      }
      const row = rows[i]!;
      const d = this.decoded(row);
      listed.add(row.name);
      const summary: FleetNodeSummary = {
        name: row.name,
        status: row.status === 'online' || row.status === 'offline' ? row.status : 'unknown',
        last_seen_ms: row.last_seen_ms,
        clock_skew_s: row.clock_skew_ms == null ? null : row.clock_skew_ms / 1000,
        latest: d.latest,
        info: d.info,
        tags: d.tags,
      };
      if (d.containers) summary.containers = d.containers;
      if (d.clockSynchronized !== undefined) summary.clock_synchronized = d.clockSynchronized;
      out[i] = summary;
    }
    // Nodes no longer listed are forgotten (one a list running beside this one added comes back at its next list).
    for (const name of this.byNode.keys()) if (!listed.has(name)) this.byNode.delete(name);
    return out;
  }

  /** The node's decoded parts, brought up to date with its row (in place: only their values are handed out). */
  private decoded(row: NodeRecord): FleetDecoded {
    let d = this.byNode.get(row.name);
    if (!d) {
      d = {
        latestBytes: null,
        latest: null,
        containers: undefined,
        clockSynchronized: undefined,
        infoBytes: null,
        info: null,
        agentTags: undefined,
        hubTagsColumn: null,
        tags: [],
      };
      this.byNode.set(row.name, d);
    }
    if (!sameBytes(d.latestBytes, row.latest)) {
      d.latestBytes = row.latest;
      const parts = row.latest ? fleetPartsOf(row.latest) : null;
      d.latest = parts ? parts.latest : null;
      d.containers = parts?.containers;
      d.clockSynchronized = parts?.clockSynchronized;
    }
    const hubTags = row.hub_tags ?? null;
    const infoChanged = !sameBytes(d.infoBytes, row.info);
    if (infoChanged) {
      d.infoBytes = row.info;
      const parts = row.info ? fleetInfoOf(row.info) : null;
      d.info = parts ? parts.info : null;
      d.agentTags = parts?.agentTags;
    }
    if (infoChanged || d.hubTagsColumn !== hubTags) {
      d.hubTagsColumn = hubTags;
      d.tags = combineTags(d.agentTags, hubTags ? (JSON.parse(hubTags) as string[]) : []);
    }
    return d;
  }
}
