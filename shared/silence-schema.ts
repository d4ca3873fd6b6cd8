// A silence as POST /api/alarms/silence asks for it, described once: the schema gives the request's
// type (SilenceRequest) and every problem at once, each at its field with the value given. It turns
// a valid request into the silence to store, its end from `for` or `until_ms`.
import * as v from 'valibot';
import { nodeNameProblem, parseDuration, tagProblem } from '../protocol/index.ts';
import type { SilenceInfo } from './alarm-types.ts';
import { across, closedObject, shown } from './field-problems.ts';

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

/**
 * POST /api/alarms/silence body. At most one of node, node_pattern and tag (none: any node); no
 * rule_id: any rule. Its end is `for` (a duration, "90m", "3d") or `until_ms` (epoch ms), one of them.
 */
export type SilenceRequest = v.InferInput<ReturnType<typeof silenceSchema>>;
