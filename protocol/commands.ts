// Commands to an agent (`remonitor/<node>/cmd`) and its replies (`remonitor/<node>/reply`).
// A command is a small map with text keys, sent as CBOR or as JSON (so that a person can send one
// with mosquitto_pub); the reply goes back in the encoding the command came in. A command's fields
// are described by one valibot schema (the agent loads valibot anyway, for its options).
import { Decoder, Encoder } from 'cbor-x';
import * as v from 'valibot';
import { formatDuration, parseDuration } from './duration.ts';

export const ACTIONS = ['start', 'stop', 'interval', 'watch', 'unwatch', 'snapshot', 'ping'] as const;
export type Action = (typeof ACTIONS)[number];

/** Commands and replies above this are refused before decoding: a command is a few dozen bytes. */
export const MAX_COMMAND_BYTES = 4096;
export const MAX_ID_LENGTH = 64;
export const MAX_PATTERN_LENGTH = 256;
/** Bounds of the sample interval and of a watch interval, ms (250 ms–1 h). */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_WATCH_INTERVAL_MS = 1000;

/** What a watch follows: processes with this name (comm or argv[0] basename), this pid, or a command line containing this text. */
export type WatchTarget = { kind: 'name'; name: string } | { kind: 'pid'; pid: number } | { kind: 'cmdline'; pattern: string };

export type Command =
  | { id: string; action: 'start' | 'stop' | 'snapshot' | 'ping' }
  | { id: string; action: 'interval'; interval_ms: number }
  | { id: string; action: 'watch'; session: string; target: WatchTarget; interval_ms: number }
  | { id: string; action: 'unwatch'; session: string };

export type Reply = { id: string | null; ok: true; result: Record<string, unknown> } | { id: string | null; ok: false; error: string };

export type Encoding = 'json' | 'cbor';

/** A command that could not be read: `id` is kept when it could be, so the reply can carry it. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly id: string | null,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

/**
 * JSON when the first non-blank byte is `{` (or `[`, to say plainly that an array is no command).
 * No CBOR command can start so: 0x7b and 0x5b would be a text or byte string with an 8-byte
 * length, and blanks (0x09 0x0a 0x0d 0x20) would be a lone integer.
 */
export function detectEncoding(bytes: Uint8Array): Encoding {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b ? 'json' : 'cbor';
  }
  return 'cbor';
}

/** Reads the payload into a plain record; throws CommandError saying what was wrong. */
export function decodeCommandPayload(bytes: Uint8Array): { encoding: Encoding; fields: Record<string, unknown> } {
  const encoding = detectEncoding(bytes);
  if (bytes.length === 0) throw new CommandError('empty payload: expected a CBOR or JSON map with "id" and "action"', null);
  if (bytes.length > MAX_COMMAND_BYTES) throw new CommandError(`payload is ${bytes.length} bytes, the limit is ${MAX_COMMAND_BYTES}`, null);
  let raw: unknown;
  try {
    raw = encoding === 'json' ? JSON.parse(Buffer.from(bytes).toString('utf8')) : decoder.decode(bytes);
  } catch (err) {
    throw new CommandError(`payload is not valid ${encoding === 'json' ? 'JSON' : 'CBOR'} (${(err as Error).message})`, null);
  }
  let fields: Record<string, unknown>;
  if (raw instanceof Map) {
    fields = Object.create(null) as Record<string, unknown>; // no decoded key can reach a prototype
    for (const [k, v] of raw) if (typeof k === 'string') fields[k] = v;
  } else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    fields = Object.assign(Object.create(null) as Record<string, unknown>, raw);
  } else {
    throw new CommandError(`payload must be a map with "id" and "action", got ${describe(raw)}`, null);
  }
  return { encoding, fields };
}

/** Decodes and validates a command; throws CommandError (with the id when readable) otherwise. */
export function decodeCommand(bytes: Uint8Array): { encoding: Encoding; command: Command } {
  const { encoding, fields } = decodeCommandPayload(bytes);
  return { encoding, command: parseCommand(fields) };
}

const idProblem = (issue: { input: unknown }) => `"id" must be a text of 1 to ${MAX_ID_LENGTH} characters, got ${describe(issue.input)}`;
const INTERVAL_BOUNDS = `it must be between ${formatDuration(MIN_INTERVAL_MS)} and ${formatDuration(MAX_INTERVAL_MS)}`;
const notADuration = (issue: { input: unknown }) => `interval ${describe(issue.input)} is not a duration such as 500, "500ms", "5s" or "1m"`;
const sessionProblem = (issue: { input: unknown }) => `"session" must be 1–64 of A-Za-z0-9._-, got ${describe(issue.input)}`;
const patternProblem = (key: string) => (issue: { input: unknown }) =>
  `"${key}" must be a text of 1 to ${MAX_PATTERN_LENGTH} characters, got ${describe(issue.input)}`;
const pidProblem = (issue: { input: unknown }) => `"pid" must be a positive integer, got ${describe(issue.input)}`;
/** A required field that is missing: its own problem, which says it got nothing. */
const missing = (issue: v.ObjectIssue) => (issue.path?.[0]?.key === 'session' ? sessionProblem : idProblem)({ input: undefined });

const commandId = () => v.pipe(v.string(idProblem), v.minLength(1, idProblem), v.maxLength(MAX_ID_LENGTH, idProblem));

/** A number of ms or a duration as text ("500ms", "2s"), within the interval bounds. */
const intervalValue = () =>
  v.pipe(
    v.union([v.number(), v.string()], notADuration),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const ms = parseDuration(dataset.value);
      if (ms !== null) return ms;
      addIssue({ message: notADuration({ input: dataset.value }) });
      return NEVER;
    }),
    v.check(
      (ms) => ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS,
      (issue) => `interval ${formatDuration(issue.input as number)} is out of bounds: ${INTERVAL_BOUNDS}`,
    ),
  );
/** `interval_ms` or `interval`, either form in either key (`interval_ms` first). */
const intervalFields = () => ({ interval_ms: v.optional(intervalValue()), interval: v.optional(intervalValue()) });

const sessionId = () => v.pipe(v.string(sessionProblem), v.regex(/^[A-Za-z0-9._-]{1,64}$/, sessionProblem));

const pattern = (key: string) =>
  v.pipe(v.string(patternProblem(key)), v.minLength(1, patternProblem(key)), v.maxLength(MAX_PATTERN_LENGTH, patternProblem(key)));
/** The ways a watch names its processes: exactly one of them. */
const TARGET_KEYS = ['pid', 'name', 'cmdline', 'target'] as const;
const targetFields = () => ({
  // A number, or digits as text (mosquitto_pub users write JSON by hand).
  pid: v.optional(
    v.pipe(
      v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/, pidProblem), v.transform(Number))], pidProblem),
      v.check((pid) => Number.isSafeInteger(pid) && pid > 0, pidProblem),
    ),
  ),
  name: v.optional(pattern('name')),
  cmdline: v.optional(pattern('cmdline')),
  target: v.optional(
    v.pipe(
      v.string((issue) => `"target" must be text like "name:nginx", got ${describe(issue.input)}`),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const target = parseTarget(dataset.value);
        if (typeof target !== 'string') return target;
        addIssue({ message: target });
        return NEVER;
      }),
    ),
  ),
});
type TargetFields = v.InferOutput<v.ObjectSchema<ReturnType<typeof targetFields>, undefined>>;

/** The target of exactly one of the target fields, or the problem. */
function oneTarget(fields: TargetFields): WatchTarget | string {
  const given = TARGET_KEYS.filter((k) => fields[k] !== undefined);
  if (given.length === 0) return 'needs one of "pid", "name", "cmdline" or "target" to say which processes to follow';
  if (given.length > 1) return `give only one of ${given.map((g) => `"${g}"`).join(', ')}`;
  const { pid, name, cmdline, target } = fields;
  if (pid !== undefined) return { kind: 'pid', pid };
  if (name !== undefined) return { kind: 'name', name };
  if (cmdline !== undefined) return { kind: 'cmdline', pattern: cmdline };
  return target!;
}

/** Each action and its arguments. Problems with the arguments name the action; fields of other actions are ignored. */
const commandSchema = () =>
  v.variant(
    'action',
    [
      v.object({ id: commandId(), action: v.picklist(['start', 'stop', 'snapshot', 'ping']) }, missing),
      v.pipe(
        v.object({ id: commandId(), action: v.literal('interval'), ...intervalFields() }, missing),
        v.check((c) => (c.interval_ms ?? c.interval) !== undefined, 'needs "interval_ms" (a number of ms) or "interval" (like "500ms", "5s")'),
        v.transform((c): Command => ({ id: c.id, action: c.action, interval_ms: (c.interval_ms ?? c.interval)! })),
      ),
      v.pipe(
        v.object({ id: commandId(), action: v.literal('watch'), session: sessionId(), ...intervalFields(), ...targetFields() }, missing),
        v.rawTransform<TargetFields & { id: string; action: 'watch'; session: string; interval_ms?: number; interval?: number }, Command>(
          ({ dataset, addIssue, NEVER }) => {
            const c = dataset.value;
            const target = oneTarget(c);
            if (typeof target !== 'string')
              return { id: c.id, action: c.action, session: c.session, target, interval_ms: c.interval_ms ?? c.interval ?? DEFAULT_WATCH_INTERVAL_MS };
            addIssue({ message: target });
            return NEVER;
          },
        ),
      ),
      v.object({ id: commandId(), action: v.literal('unwatch'), session: sessionId() }, missing),
    ],
    (issue) => `"action" ${describe(issue.input)} is unknown; known actions: ${ACTIONS.join(', ')}`,
  );
/** Made at the first command: an agent that is never sent one does not keep it. */
let commandSchemaMade: ReturnType<typeof commandSchema> | undefined;

/** Validates a command given as a record (the REST API passes its JSON body here too): every problem in one CommandError, with the id when it was valid. */
export function parseCommand(fields: Record<string, unknown>): Command {
  commandSchemaMade ??= commandSchema();
  const result = v.safeParse(commandSchemaMade, fields, { abortPipeEarly: true });
  if (result.success) return result.output;
  const given = fields['id'];
  const id = typeof given === 'string' && given.length >= 1 && given.length <= MAX_ID_LENGTH ? given : null;
  // Problems of the id and the action as they are; the arguments', after the action's name.
  const named = (issue: v.BaseIssue<unknown>) => ['id', 'action'].includes(String(issue.path?.[0]?.key));
  const problems = result.issues.filter(named).map((issue) => issue.message);
  const argumentProblems = result.issues.filter((issue) => !named(issue)).map((issue) => issue.message);
  if (argumentProblems.length > 0) problems.push(`${String(fields['action'])}: ${argumentProblems.join('; ')}`);
  throw new CommandError(problems.join('; '), id);
}

/**
 * A target as people write it: `pid:1234` (or a bare number), `name:nginx`, `cmdline:server.js`
 * (or `cmd:`), a bare word is a name. Returns a problem sentence for anything else.
 */
export function parseTarget(text: string): WatchTarget | string {
  const t = text.trim();
  if (t.length === 0 || t.length > MAX_PATTERN_LENGTH) return `target must be 1 to ${MAX_PATTERN_LENGTH} characters, got ${describe(text)}`;
  const m = /^(pid|name|cmdline|cmd):(.*)$/s.exec(t);
  const kind = m ? m[1]! : /^\d+$/.test(t) ? 'pid' : 'name';
  const value = m ? m[2]!.trim() : t;
  if (value.length === 0) return `target ${JSON.stringify(text)} names no ${kind}`;
  if (kind === 'pid') {
    const pid = Number(value);
    return Number.isSafeInteger(pid) && pid > 0 ? { kind: 'pid', pid } : `target ${JSON.stringify(text)}: pid must be a positive integer`;
  }
  return kind === 'name' ? { kind: 'name', name: value } : { kind: 'cmdline', pattern: value };
}

/** `name:nginx`, `pid:42`, `cmdline:server.js`: the form parseTarget reads back. */
export function formatTarget(target: WatchTarget): string {
  switch (target.kind) {
    case 'pid':
      return `pid:${target.pid}`;
    case 'name':
      return `name:${target.name}`;
    case 'cmdline':
      return `cmdline:${target.pattern}`;
  }
}

/** A command as it goes on the wire; `watch` sends its target as the text form. */
export function encodeCommand(command: Command, encoding: Encoding = 'cbor'): Uint8Array {
  const fields: Record<string, unknown> = { ...command };
  if (command.action === 'watch') fields['target'] = formatTarget(command.target);
  return encodeMap(fields, encoding);
}

export function encodeReply(reply: Reply, encoding: Encoding): Uint8Array {
  return encodeMap(reply as unknown as Record<string, unknown>, encoding);
}

function encodeMap(fields: Record<string, unknown>, encoding: Encoding): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify(fields));
  return encoder.encode(toMaps(fields));
}

// Text-keyed CBOR maps all the way down, so that every reader sees the same shape as the JSON.
function toMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toMaps);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return new Map(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toMaps(v)]),
    );
  }
  return value;
}

function fromMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromMaps);
  if (value instanceof Map) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of value) if (typeof k === 'string') out[k] = fromMaps(v);
    return out;
  }
  return value;
}

/** Reads a reply (CBOR or JSON); throws CommandError when it is not one. */
export function decodeReply(bytes: Uint8Array): Reply {
  const { fields } = decodeCommandPayload(bytes);
  const plain = fromMaps(new Map(Object.entries(fields))) as Record<string, unknown>;
  const id = plain['id'];
  if (id !== null && typeof id !== 'string') throw new CommandError(`reply: "id" must be text or null, got ${describe(id)}`, null);
  if (plain['ok'] === true) {
    const result = plain['result'];
    return { id, ok: true, result: result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {} };
  }
  if (plain['ok'] === false) return { id, ok: false, error: typeof plain['error'] === 'string' ? plain['error'] : 'no error message' };
  throw new CommandError(`reply: "ok" must be true or false, got ${describe(plain['ok'])}`, id);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (value instanceof Map) return 'a map';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
