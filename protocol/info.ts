// The birth record, retained on `remonitor/<node>/info`: a CBOR map with text keys (it is sent
// once per connection, so readability beats size here).

export interface DiskInfo {
  mount: string;
  fs_type: string;
  size_bytes: number;
}

export interface NodeInfo {
  v: number;
  agent_version: string;
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpu_model: string;
  cpu_cores: number;
  mem_total_bytes: number;
  disks: DiskInfo[];
  boot_time_ms: number;
  interval_ms: number;
  /** The node's non-loopback IP addresses (so a node can be picked by address); absent from older agents. */
  ip_addresses?: string[];
  /** The agent's tags (`--tags`), each a TAG_PATTERN word; absent from older agents and when it has none. */
  tags?: string[];
}

/**
 * A node's tag: one lowercase word, `:` allowed inside so that `room:kitchen` reads as a key and a
 * value, but it is matched as a whole word like `ci` or `site-b` (no key lookup anywhere).
 */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
/** Tags one node may carry, from all its sources together. */
export const MAX_TAGS = 32;

/** What is wrong with one tag, or null. */
export function tagProblem(tag: unknown): string | null {
  if (typeof tag !== 'string') return `a tag must be text, got ${typeof tag}`;
  if (TAG_PATTERN.test(tag)) return null;
  if (tag.length === 0) return 'a tag is empty';
  if (tag.length > 64) return `tag "${tag.slice(0, 20)}…" is ${tag.length} characters long, the limit is 64`;
  return `tag ${JSON.stringify(tag)} must be lowercase a-z 0-9 and _ . : - inside, starting with a letter or digit`;
}

/** Every problem of a tag list, each naming its tag; empty when it is valid. */
export function tagListProblems(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [`tags must be a list of words, got ${JSON.stringify(tags)?.slice(0, 40)}`];
  const problems = tags.flatMap((t) => tagProblem(t) ?? []);
  if (tags.length > MAX_TAGS) problems.push(`at most ${MAX_TAGS} tags, got ${tags.length}`);
  return problems;
}

/** `"ci, room:kitchen,,ci"` → `["ci", "room:kitchen"]`: comma-separated, blanks and repeats dropped. Unchecked. */
export function splitTags(list: string): string[] {
  return [
    ...new Set(
      list
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    ),
  ];
}

/**
 * A node's tags: the agent's and the hub's (given at enrolment or in the UI) together, each once,
 * sorted. Neither source removes the other's: a tag the agent sends is changed on the node.
 */
export function combineTags(agent: readonly string[] | undefined, hub: readonly string[] | undefined): string[] {
  return [...new Set([...(agent ?? []), ...(hub ?? [])])].sort();
}
