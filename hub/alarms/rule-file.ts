// Where the rules live: a JSON file (`alarm-rules.json` in the data directory by default), seeded
// with the defaults when missing, read at start (refusing to start on an invalid rule, with every
// problem), and rewritten atomically (temp file + rename) when the API changes a rule, so that a
// crash mid-write never leaves half a file. People may edit it by hand while the hub is stopped.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatProblems, validateRules, type AlarmRuleInput } from './rules.ts';

export const RULES_FILE = 'alarm-rules.json';

export interface RulesDocument {
  /** Format of this file; bumped only if it ever changes incompatibly. */
  version: 1;
  rules: AlarmRuleInput[];
}

/** Reads the rules; writes `seed` first when the file does not exist. Throws naming every problem. */
export function loadRules(path: string, seed: () => AlarmRuleInput[]): AlarmRuleInput[] {
  if (!existsSync(path)) {
    saveRules(path, seed());
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`alarm rules ${path}: not valid JSON (${(err as Error).message})`);
  }
  const rules = (doc as Partial<RulesDocument> | null)?.rules;
  const problems = validateRules(rules);
  if (problems.length > 0) throw new Error(`alarm rules ${path}: ${formatProblems(problems)}`);
  return rules as AlarmRuleInput[];
}

export function saveRules(path: string, rules: AlarmRuleInput[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const doc: RulesDocument = { version: 1, rules };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, path);
}
