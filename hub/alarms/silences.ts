// Silences: what a request may ask for (a schema: every problem at once, with its field), and the
// matcher the engine asks on every transition and every alarm it lists. The matcher is made once whenever the
// silences change (and at each tick, as they end); per node it keeps the silences that can apply to
// it, so a transition looks at those few rather than at every silence with its pattern.
import * as v from 'valibot';
import { nodeNameProblem, parseDuration, tagProblem } from '../../protocol/index.ts';
import type { FieldProblem, SilenceInfo } from '../../shared/alarm-types.ts';
import { across, closedObject, parseProblems, shown } from '../../shared/field-problems.ts';
import { globToRegExp } from './rules.ts';

/** The longest silence: a year. Longer is a typo, or a rule that should be disabled instead. */
export const MAX_SILENCE_MS = 365 * 86_400_000;
const MAX_REASON = 500;
const GLOB = /^[A-Za-z0-9._*?-]{1,64}$/;

/** Optional text: absent, null and "" are null; `problem` judges any other. */
const text = (problem: (text: string) => string | null = () => null) =>
  v.pipe(
    v.nullish(v.string((i) => `must be a text, got ${shown(i.input)}`)),
    v.transform((t) => (t ? t : null)),
    v.check(
      (t) => t === null || problem(t) === null,
      (i) => problem(i.input as string) ?? '',
    ),
  );

/** POST /api/alarms/silence's body (SilenceRequest) as the silence it asks for, `now` and the rules' ids given. */
export function silenceSchema(ctx: { now: number; ruleIds: readonly string[] }) {
  const entries = {
    node: text(nodeNameProblem),
    node_pattern: text((p) => (GLOB.test(p) ? null : `must be a node name glob of A-Z a-z 0-9 . _ - * ?, got ${shown(p)}`)),
    tag: text(tagProblem),
    rule_id: text((id) => (ctx.ruleIds.includes(id) ? null : `no rule with id ${shown(id)}; rules: ${ctx.ruleIds.join(', ')}`)),
    subject: text(),
    for: v.optional(
      v.pipe(
        v.custom<string>(
          (d) => typeof d === 'string' && (parseDuration(d) ?? 0) > 0,
          (i) => `must be a duration like "90m", "3d", got ${shown(i.input)}`,
        ),
        v.check(
          (d) => parseDuration(d)! <= MAX_SILENCE_MS,
          (i) => `must be at most a year, got ${shown(i.input)}`,
        ),
      ),
    ),
    until_ms: v.optional(
      v.pipe(
        v.custom<number>(Number.isInteger, (i) => `must be an end time in epoch ms, got ${shown(i.input)}`),
        v.check(
          (t) => t > ctx.now,
          (i) => `must be in the future, got ${new Date(i.input as number).toISOString()}`,
        ),
        v.check(
          (t) => t <= ctx.now || t - ctx.now <= MAX_SILENCE_MS,
          (i) => `must be within a year, got ${new Date(i.input as number).toISOString()}`,
        ),
      ),
    ),
    reason: text((r) => (r.length > MAX_REASON ? `must be at most ${MAX_REASON} characters, got ${r.length}` : null)),
  };
  // The checks across fields read what was given, valid or not: a second target is one too many either way.
  const given = (value: unknown) => value !== undefined && value !== null && value !== '';
  return v.pipe(
    closedObject(entries, () => 'the body must be a JSON object {"for": "1h", "reason": "...", "node"?, "node_pattern"?, "rule_id"?, ...}'),
    across([], (r, report) => {
      const targets = (['node', 'node_pattern', 'tag'] as const).filter((key) => given(r[key]));
      if (targets.length > 1) report([targets[1]!], `give one of node, node_pattern and tag (none: every node), not ${targets.join(' and ')}`);
      if (given(r.subject) && !given(r.rule_id)) report(['subject'], 'a filesystem or label set can only be silenced with its rule_id');
      if (r.for !== undefined && r.until_ms !== undefined) report(['for'], 'give for or until_ms, not both');
      if (r.for === undefined && r.until_ms === undefined) report(['for'], 'give how long ("90m", "3d") or an end time (until_ms)');
    }),
    v.transform(
      (r): Omit<SilenceInfo, 'id' | 'created_by'> => ({
        node: r.node ?? null,
        node_pattern: r.node_pattern ?? null,
        tag: r.tag ?? null,
        rule_id: r.rule_id ?? null,
        subject: r.subject ?? null,
        from_ms: ctx.now,
        until_ms: r.until_ms ?? ctx.now + parseDuration(r.for!)!,
        reason: r.reason ?? null,
      }),
    ),
  );
}

/** A silence as it will be stored, or every problem of the request (silenceSchema). */
export function checkSilence(
  input: unknown,
  ctx: { now: number; ruleIds: readonly string[] },
): { silence: Omit<SilenceInfo, 'id' | 'created_by'> } | { problems: FieldProblem[] } {
  const parsed = parseProblems(silenceSchema(ctx), input);
  return 'output' in parsed ? { silence: parsed.output } : parsed;
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
