// Silences: what a request may ask for (every problem at once, with its field), and the matcher the
// engine asks on every transition and every alarm it lists. The matcher is made once whenever the
// silences change (and at each tick, as they end); per node it keeps the silences that can apply to
// it, so a transition looks at those few rather than at every silence with its pattern.
import { nodeNameProblem, parseDuration, tagProblem } from '../../protocol/index.ts';
import type { FieldProblem, SilenceInfo } from '../../shared/alarm-types.ts';
import { globToRegExp } from './rules.ts';

/** The longest silence: a year. Longer is a typo, or a rule that should be disabled instead. */
export const MAX_SILENCE_MS = 365 * 86_400_000;
const MAX_REASON = 500;
const GLOB = /^[A-Za-z0-9._*?-]{1,64}$/;
const KEYS = ['node', 'node_pattern', 'tag', 'rule_id', 'subject', 'for', 'until_ms', 'reason'];

/** A silence as it will be stored, or every problem of the request. */
export function checkSilence(
  input: unknown,
  ctx: { now: number; ruleIds: readonly string[] },
): { silence: Omit<SilenceInfo, 'id' | 'created_by'> } | { problems: FieldProblem[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { problems: [{ field: '', problem: 'the body must be a JSON object {"for": "1h", "reason": "...", "node"?, "node_pattern"?, "rule_id"?, ...}' }] };
  const r = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const add = (field: string, problem: string) => problems.push({ field, problem });
  for (const key of Object.keys(r)) if (!KEYS.includes(key)) add(key, `unknown field; known: ${KEYS.join(', ')}`);
  const text = (key: string): string | null => {
    const v = r[key];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') {
      add(key, `must be a text, got ${JSON.stringify(v)}`);
      return null;
    }
    return v;
  };
  const node = text('node');
  if (node !== null && nodeNameProblem(node)) add('node', nodeNameProblem(node)!);
  const pattern = text('node_pattern');
  if (pattern !== null && !GLOB.test(pattern)) add('node_pattern', `must be a node name glob of A-Z a-z 0-9 . _ - * ?, got ${JSON.stringify(pattern)}`);
  const tag = text('tag');
  if (tag !== null && tagProblem(tag)) add('tag', tagProblem(tag)!);
  const targets = (['node', 'node_pattern', 'tag'] as const).filter((_, i) => [node, pattern, tag][i] !== null);
  if (targets.length > 1) add(targets[1]!, `give one of node, node_pattern and tag (none: every node), not ${targets.join(' and ')}`);
  const ruleId = text('rule_id');
  if (ruleId !== null && !ctx.ruleIds.includes(ruleId)) add('rule_id', `no rule with id ${JSON.stringify(ruleId)}; rules: ${ctx.ruleIds.join(', ')}`);
  const subject = text('subject');
  if (subject !== null && ruleId === null) add('subject', 'a filesystem or label set can only be silenced with its rule_id');
  let untilMs: number | null = null;
  if (r['for'] !== undefined && r['until_ms'] !== undefined) add('for', 'give for or until_ms, not both');
  else if (r['for'] !== undefined) {
    const ms = typeof r['for'] === 'string' ? parseDuration(r['for']) : null;
    if (ms === null || ms <= 0) add('for', `must be a duration like "90m", "3d", got ${JSON.stringify(r['for'])}`);
    else if (ms > MAX_SILENCE_MS) add('for', `must be at most a year, got ${JSON.stringify(r['for'])}`);
    else untilMs = ctx.now + ms;
  } else if (r['until_ms'] !== undefined) {
    const v = r['until_ms'];
    if (typeof v !== 'number' || !Number.isInteger(v)) add('until_ms', `must be an end time in epoch ms, got ${JSON.stringify(v)}`);
    else if (v <= ctx.now) add('until_ms', `must be in the future, got ${new Date(v).toISOString()}`);
    else if (v - ctx.now > MAX_SILENCE_MS) add('until_ms', `must be within a year, got ${new Date(v).toISOString()}`);
    else untilMs = v;
  } else add('for', 'give how long ("90m", "3d") or an end time (until_ms)');
  const reason = text('reason');
  if (reason !== null && reason.length > MAX_REASON) add('reason', `must be at most ${MAX_REASON} characters, got ${reason.length}`);
  if (problems.length > 0 || untilMs === null) return { problems };
  return { silence: { node, node_pattern: pattern, tag, rule_id: ruleId, subject, from_ms: ctx.now, until_ms: untilMs, reason } };
}

interface Compiled {
  info: SilenceInfo;
  pattern: RegExp | null;
}

/** Which silences hold an alarm's notifications. Rebuilt when the silences change; never mutated. */
export class SilenceMatcher {
  private readonly all: Compiled[];
  /** Per node, the silences that can apply to it: filled on first use. */
  private readonly byNode = new Map<string, Compiled[]>();

  constructor(
    silences: readonly SilenceInfo[],
    private readonly tagsOf: (node: string) => readonly string[] = () => [],
  ) {
    this.all = silences.map((info) => ({ info, pattern: info.node_pattern ? globToRegExp(info.node_pattern) : null }));
  }

  /** The latest end among the silences matching the alarm at `now`, or null when none does. */
  until(node: string, ruleId: string, subject: string, now: number): number | null {
    if (this.all.length === 0) return null;
    let forNode = this.byNode.get(node);
    if (!forNode) {
      const tags = this.all.some((s) => s.info.tag !== null) ? this.tagsOf(node) : [];
      forNode = this.all.filter(
        ({ info, pattern }) =>
          (info.node === null || info.node === node) && (pattern === null || pattern.test(node)) && (info.tag === null || tags.includes(info.tag)),
      );
      this.byNode.set(node, forNode);
    }
    let until: number | null = null;
    for (const { info } of forNode) {
      if (info.until_ms <= now || info.from_ms > now) continue;
      if ((info.rule_id ?? ruleId) !== ruleId || (info.subject ?? subject) !== subject) continue;
      until = Math.max(until ?? 0, info.until_ms);
    }
    return until;
  }
}
