// Where the rules live: a JSON file (`alarm-rules.json` in the data directory by default), the one
// source of the rules (people keep it in git). Seeded with the defaults when missing, read at start
// (refusing to start on an invalid rule, with every problem), read again whenever it changes on
// disk (rule-file-watch.ts; a version with problems is not applied), and rewritten atomically (temp
// file + rename) when the API changes a rule, so that a crash mid-write never leaves half a file.
// The API never writes over an edit it has not read: it compares the file with the version it last
// read or wrote (size and mtime, then content) and refuses with 409 when they differ.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RulesFileStatus } from '../../shared/alarm-types.ts';
import * as v from 'valibot';
import { problemsOf } from '../../shared/field-problems.ts';
import { RulesDocumentSchema } from './rule-schema.ts';
import { formatProblems, type AlarmRuleInput, type RuleProblem } from './rules.ts';

export const RULES_FILE = 'alarm-rules.json';
/** A larger file is refused unread: nobody writes a megabyte of rules, and the hub reads it on its event loop. */
export const MAX_RULES_FILE_BYTES = 1024 * 1024;

/** The file's content as the hub writes it (the schema also reads it without `version`). */
export type RulesDocument = Required<v.InferOutput<typeof RulesDocumentSchema>>;

/** Which version of the file the hub knows: cheap to compare (size, mtime), exact when those moved (hash). */
interface FileStamp {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** What one read of the file found: its rules when valid, else every problem. */
export type RulesRead = { rules: AlarmRuleInput[]; stamp: FileStamp } | { problems: RuleProblem[]; stamp: FileStamp | null };

/** A refused write: the file changed on disk since it was read. Shaped like the engine's RuleError. */
export class RulesFileConflict extends Error {
  readonly status = 409;
  readonly problems: RuleProblem[];
  constructor(message: string) {
    super(message);
    this.name = 'RulesFileConflict';
    this.problems = [{ field: 'file', problem: message }];
  }
}

function readBounded(path: string): { text: string; size: number; mtimeMs: number } {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.size > MAX_RULES_FILE_BYTES) throw new RangeError(`is ${st.size} bytes; at most ${MAX_RULES_FILE_BYTES} are read`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return { text: buf.subarray(0, at).toString('utf8'), size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Reads and checks the file once; never throws for what is in it (a missing file is a problem too). */
export function readRulesFile(path: string): RulesRead {
  let read: ReturnType<typeof readBounded>;
  try {
    read = readBounded(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { problems: [{ field: '', problem: e.code === 'ENOENT' ? 'the file does not exist' : `cannot be read: ${e.message}` }], stamp: null };
  }
  const stamp = { size: read.size, mtimeMs: read.mtimeMs, sha256: sha256(read.text) };
  let doc: unknown;
  try {
    doc = JSON.parse(read.text);
  } catch (err) {
    return { problems: [{ field: '', problem: `not valid JSON (${(err as Error).message})` }], stamp };
  }
  const problems = documentProblems(doc);
  return problems.length > 0 ? { problems, stamp } : { rules: (doc as RulesDocument).rules, stamp };
}

/** Every problem of a rules document (the file's content, or PUT /api/alarms/rules's body): RulesDocumentSchema. */
export function documentProblems(doc: unknown): RuleProblem[] {
  return problemsOf(v.safeParse(RulesDocumentSchema, doc).issues);
}

/** Reads the rules; writes `seed` first when the file does not exist. Throws naming every problem. */
export function loadRules(path: string, seed: () => AlarmRuleInput[]): AlarmRuleInput[] {
  const file = new RulesFile(path);
  return file.load(seed);
}

export function saveRules(path: string, rules: AlarmRuleInput[]): void {
  writeDocument(path, rules);
}

function writeDocument(path: string, rules: AlarmRuleInput[]): string {
  mkdirSync(dirname(path), { recursive: true });
  const doc: RulesDocument = { version: 1, rules };
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return text;
}

/**
 * The rules file as the engine keeps it: the version whose rules run (`applied`), and the problems
 * of a newer version on disk that was refused. Reads and writes are synchronous and small.
 */
export class RulesFile {
  private applied: FileStamp | null = null;
  /** The refused version, so that an unchanged bad file is not read again on every poll. */
  private refused: FileStamp | null = null;
  private loadedAtMs: number | null = null;
  private problems: RuleProblem[] = [];

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The first read, at start: seeds a missing file; throws naming the file and every problem. */
  load(seed: () => AlarmRuleInput[]): AlarmRuleInput[] {
    if (!existsSync(this.path)) writeDocument(this.path, seed());
    const read = readRulesFile(this.path);
    if ('problems' in read) throw new Error(`alarm rules ${this.path}: ${formatProblems(read.problems)}`);
    this.accept(read.stamp);
    return read.rules;
  }

  /**
   * Looks at the file again: null when it is the version in force (or one already refused), else
   * the new version's rules (now in force) or its problems (kept, and shown by `status`).
   */
  check(): { rules: AlarmRuleInput[] } | { problems: RuleProblem[] } | null {
    if (this.unchanged()) return null;
    const read = readRulesFile(this.path);
    if (read.stamp && this.applied && read.stamp.sha256 === this.applied.sha256) {
      this.applied = read.stamp; // touched, or written back unchanged: same rules
      this.problems = [];
      return null;
    }
    if ('problems' in read) {
      const same = JSON.stringify(read.problems) === JSON.stringify(this.problems);
      this.problems = read.problems;
      this.refused = read.stamp;
      return same ? null : { problems: read.problems };
    }
    this.accept(read.stamp);
    return { rules: read.rules };
  }

  /** True when size and mtime are those of the version in force or of the one refused last. */
  private unchanged(): boolean {
    let st: { size: number; mtimeMs: number };
    try {
      st = statSync(this.path);
    } catch {
      st = { size: -1, mtimeMs: -1 };
    }
    const same = (s: FileStamp | null) => s !== null && s.size === st.size && s.mtimeMs === st.mtimeMs;
    return same(this.applied) || (this.problems.length > 0 && same(this.refused));
  }

  /**
   * Writes `rules` as the new version, refusing (RulesFileConflict) when the file on disk is not the
   * version in force: an edit the hub has not applied (not read yet, or refused for its problems).
   */
  write(rules: AlarmRuleInput[]): void {
    this.assertInSync();
    const text = writeDocument(this.path, rules);
    const st = statSync(this.path);
    this.accept({ size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(text) });
  }

  private assertInSync(): void {
    if (this.unchanged() && this.problems.length === 0) return;
    const read = readRulesFile(this.path);
    if (read.stamp && this.applied && read.stamp.sha256 === this.applied.sha256) {
      this.applied = read.stamp; // touched, or put back as it was: the version in force
      this.problems = [];
      return;
    }
    const since = this.loadedAtMs === null ? '' : ` (the version in force was read at ${new Date(this.loadedAtMs).toISOString()})`;
    const why = 'problems' in read ? `it now has problems and is not applied: ${formatProblems(read.problems)}` : 'the hub reloads it within seconds';
    throw new RulesFileConflict(
      `${this.path} changed on disk since the hub last read it${since}, and this change would overwrite that edit: ${why}. Nothing was written; reload the rules and make the change again${'problems' in read ? ' once the file is fixed' : ''}.`,
    );
  }

  private accept(stamp: FileStamp): void {
    this.applied = stamp;
    this.refused = null;
    this.loadedAtMs = this.now();
    this.problems = [];
  }

  status(): RulesFileStatus {
    return { path: this.path, loaded_at_ms: this.loadedAtMs, problems: this.problems };
  }
}
