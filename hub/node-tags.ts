// The tags given to nodes on the hub: by an admin in the dashboard (PUT /api/nodes/:node/tags,
// web/tag-routes.ts), at enrolment in the dashboard (POST /api/enrolments) or by `remonitor node
// add --tags` (auth/enrolment-tags.ts, read at the start and every few seconds). Each change is
// stored (hub/store.ts, setHubTags) and then told to the alarm engine, whose rules may target tags.
// A node's tags are these and its agent's together (protocol/info.ts, combineTags).
import type { EnrolmentTagRequest, EnrolmentTags } from '../auth/enrolment-tags.ts';
import { assertNodeName, tagListProblems } from '../protocol/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { AnyMetricsStore } from './async-store.ts';

export interface NodeTagsOptions {
  store: Pick<AnyMetricsStore, 'setHubTags'>;
  /** Tags asked for by the CLI at enrolment; absent: only the API sets tags. */
  requests?: EnrolmentTags | null;
  /** Told after each stored change (the alarm engine). */
  onChange?: (node: string, hubTags: readonly string[]) => void;
  log: Logger;
  /** How often the CLI's requests are looked for, ms (default 2 s). */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 2_000;

export class NodeTags {
  private poller: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(private readonly options: NodeTagsOptions) {}

  /**
   * Replaces the hub's tags of `node`, each once and sorted. Throws a TypeError naming every bad
   * tag (or the bad name) before anything is stored.
   */
  async set(node: string, tags: readonly string[]): Promise<string[]> {
    assertNodeName(node);
    const problems = tagListProblems(tags);
    if (problems.length) throw new TypeError(problems.join('; '));
    const clean = [...new Set(tags)].sort();
    await this.options.store.setHubTags(node, clean);
    this.options.onChange?.(node, clean);
    return clean;
  }

  /** Takes the tags the CLI gave meanwhile, then looks for new ones every few seconds. */
  async start(): Promise<void> {
    await this.applyRequests();
    this.poller = setInterval(() => void this.applyRequests(), this.options.pollMs ?? DEFAULT_POLL_MS);
    this.poller.unref();
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }

  private async applyRequests(): Promise<void> {
    const requests = this.options.requests;
    if (!requests || this.polling) return;
    this.polling = true;
    try {
      for (const request of requests.pending()) await this.applyRequest(requests, request);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'could not read the enrolment tags asked for; will retry');
    } finally {
      this.polling = false;
    }
  }

  private async applyRequest(requests: EnrolmentTags, request: EnrolmentTagRequest): Promise<void> {
    try {
      await this.set(request.node, request.tags);
      requests.done(request);
    } catch (err) {
      // A bad row (auth.db edited by hand) would be retried for ever: it is dropped, and said.
      if (err instanceof TypeError) requests.done(request);
      this.options.log.error(
        { node: request.node, err: (err as Error).message },
        err instanceof TypeError ? 'enrolment tags refused' : 'could not store enrolment tags; will retry',
      );
    }
  }
}
