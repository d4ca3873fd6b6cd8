// Identities the hub gives JSON samples sent without `boot` and `seq` (a board with no storage, a
// person with mosquitto_pub), so that they are stored like any other (PROTOCOL.md, "JSON samples").
// The boot id is new at each hub start and random, so a second hub of a shared group makes its own;
// seq counts each node's samples from 0. So (node, boot, seq) never repeats, and each boot's
// watermark moves over contiguous seqs. Such a device gets no replay and no deduplication: a copy
// of its message is a second sample.
import { randomBytes } from 'node:crypto';

export interface AssignedIdentity {
  boot: string;
  seq: number;
  /** The node's first sample under this boot id (worth a log line). */
  first: boolean;
}

// Nodes counted at once (a bound, not a figure ever expected): past it, a new boot id starts every
// count again from 0, which keeps (node, boot, seq) unique.
const DEFAULT_MAX_NODES = 100_000;

export class AssignedIdentities {
  /** Every boot id this hub makes starts so: `hub-<12 hex>`, then `-<n>` after the nth restart of the counts. */
  private readonly prefix = `hub-${randomBytes(6).toString('hex')}`;
  private generation = 0;
  private boot = this.prefix;
  private readonly nextSeq = new Map<string, number>();

  constructor(private readonly maxNodes = DEFAULT_MAX_NODES) {}

  assign(node: string): AssignedIdentity {
    let seq = this.nextSeq.get(node);
    if (seq === undefined) {
      if (this.nextSeq.size >= this.maxNodes) {
        this.nextSeq.clear();
        this.boot = `${this.prefix}-${++this.generation}`;
      }
      seq = 0;
    }
    this.nextSeq.set(node, seq + 1);
    return { boot: this.boot, seq, first: seq === 0 };
  }

  /** True for a boot id this hub made: no device knows it, so no ack is sent for it. */
  made(boot: string): boolean {
    return boot === this.prefix || boot.startsWith(`${this.prefix}-`);
  }
}
