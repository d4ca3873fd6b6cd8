// Silences: what a request may ask for (shared/silence-schema.ts: every problem at once, with its
// field), and the matcher the engine asks on every transition and every alarm it lists. The matcher
// is made once whenever the silences change (and at each tick, as they end); per node it keeps the
// silences that can apply to it, so a transition looks at those few rather than at every silence
// with its pattern.
import type { FieldProblem, SilenceInfo } from '../../shared/alarm-types.ts';
import { parseProblems } from '../../shared/field-problems.ts';
import { silenceSchema } from '../../shared/silence-schema.ts';
import { globToRegExp } from './rules.ts';

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
