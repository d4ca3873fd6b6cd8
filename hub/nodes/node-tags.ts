// The tags given to nodes on the hub: by an admin in the dashboard (PUT /api/nodes/:node/tags,
// web/tag-routes.ts), at enrolment in the dashboard (POST /api/enrolments) or by `remonitor node
// add --tags` (auth/enrolment-tags.ts, read at the start and every few seconds). Each change is
// stored (hub/storage/store.ts, setHubTags) and then told to the alarm engine, whose rules may target tags.
// A node's tags are these and its agent's together (protocol/info.ts, combineTags).
import type { EnrolmentTags } from '../../auth/enrolment-tags.ts';
import { assertNodeName, tagListProblems } from '../../protocol/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AnyMetricsStore } from '../storage/async-store.ts';
import { RequestPoller } from './request-poller.ts';

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

export class NodeTags {
  private readonly requests: RequestPoller<{ tags: string[] }>;

  constructor(private readonly options: NodeTagsOptions) {
    this.requests = new RequestPoller({
      queue: options.requests,
      what: 'enrolment tags',
      apply: (request) => this.set(request.node, request.tags),
      log: options.log,
      pollMs: options.pollMs,
    });
  }

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
  start(): Promise<void> {
    return this.requests.start();
  }

  stop(): Promise<void> {
    return this.requests.stop();
  }
}
