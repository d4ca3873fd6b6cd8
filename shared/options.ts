// Options from flags, REMONITOR_* environment variables and a JSON config file, in that order of
// precedence. Each option is one spec (flag, help, default and a valibot schema): its type, its
// env name and its --help line all come from there, and every problem is reported together,
// naming its source.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { formatDuration } from '../protocol/index.ts';
import { jsonObject } from './option-schemas.ts';

export type OptionType = 'string' | 'boolean';

/** Checks an option's raw value (text, or a config file's JSON value for a switch) and makes it the value. */
export type OptionSchema<T> = v.GenericSchema<unknown, T>;

export interface OptionSpec<T = unknown> {
  readonly type: OptionType;
  /** Flag name without dashes, also the config-file key; the env name is REMONITOR_<FLAG_IN_CAPS>. */
  readonly flag: string;
  readonly help: string;
  readonly default?: T;
  readonly schema: OptionSchema<T>;
}

export type Spec = Record<string, OptionSpec>;
export type Values<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

/** A switch's value: true from `--flag`, a config file's JSON boolean, or true/false/1/0 as text. */
const SWITCH = v.pipe(
  v.union([v.boolean(), v.picklist(['true', 'false', '1', '0'])], 'expected true or false'),
  v.transform((value) => value === true || value === 'true' || value === '1'),
);

/** A value option whose text goes through `schema`; without a default it may be left out (undefined). */
export function valueOption<S extends v.GenericSchema<string, unknown>>(o: {
  flag: string;
  help: string;
  schema: S;
  default: v.InferOutput<S>;
}): OptionSpec<v.InferOutput<S>>;
export function valueOption<S extends v.GenericSchema<string, unknown>>(o: { flag: string; help: string; schema: S }): OptionSpec<v.InferOutput<S> | undefined>;
export function valueOption(o: { flag: string; help: string; schema: OptionSchema<unknown>; default?: unknown }): OptionSpec {
  return { type: 'string', ...o };
}

/** A text option taken as given. */
export function textOption(flag: string, help: string): OptionSpec<string | undefined>;
export function textOption(flag: string, help: string, defaultText: string): OptionSpec<string>;
export function textOption(flag: string, help: string, defaultText?: string): OptionSpec<string | undefined> {
  return { type: 'string', flag, help, default: defaultText, schema: v.string() };
}

/** A switch: `--flag` turns it on; off by default. */
export function switchOption(flag: string, help: string): OptionSpec<boolean> {
  return { type: 'boolean', flag, help, default: false, schema: SWITCH };
}

export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'OptionsError';
  }
}

export const envName = (flag: string) => `REMONITOR_${flag.toUpperCase().replace(/-/g, '_')}`;

/** A config file holds one JSON object of `{ "<flag>": value }`. */
const CONFIG_FILE = jsonObject('expected a JSON object of options');

/**
 * Resolves every option of `spec`. `--config FILE` (or REMONITOR_CONFIG) names a JSON file of
 * `{ "<flag>": value }`. Returns the frozen values and the positional arguments.
 */
export function resolveOptions<S extends Spec>(spec: S, argv: string[], env: NodeJS.ProcessEnv = process.env): { values: Values<S>; positionals: string[] } {
  const problems: string[] = [];
  const flagOptions: Record<string, { type: OptionType }> = { config: { type: 'string' } };
  for (const option of Object.values(spec)) flagOptions[option.flag] = { type: option.type };

  let flags: Record<string, string | boolean | undefined> = {};
  let positionals: string[] = [];
  try {
    // No allowNegative: it would read `--no-agent` as `agent=false`, which no spec declares.
    const parsed = parseArgs({ args: joinValues(argv, flagOptions), options: flagOptions, allowPositionals: true, strict: true });
    flags = parsed.values as typeof flags;
    positionals = parsed.positionals;
  } catch (err) {
    throw new OptionsError([(err as Error).message]);
  }

  const file = readConfigFile((flags.config as string | undefined) ?? env.REMONITOR_CONFIG, problems);
  const values: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    const fromFlag = flags[option.flag];
    const fromEnv = env[envName(option.flag)];
    const fromFile = file?.[option.flag];
    const [raw, source] =
      fromFlag !== undefined
        ? [fromFlag, `--${option.flag}`]
        : fromEnv !== undefined
          ? [fromEnv, envName(option.flag)]
          : fromFile !== undefined
            ? [fromFile, `config file key "${option.flag}"`]
            : [undefined, ''];
    if (raw === undefined) {
      values[key] = option.default;
      continue;
    }
    // A value option reads text; a config file's number or list is taken as its text ("a,b").
    const input = option.type === 'string' ? String(raw) : raw;
    // The first failed step of an option's pipe is its problem: later steps would only repeat it.
    const result = v.safeParse(option.schema, input, { abortPipeEarly: true });
    if (result.success) values[key] = result.output;
    else problems.push(`${source}: ${[...new Set(result.issues.map((issue) => issue.message))].join('; ')} (got ${JSON.stringify(input)})`);
  }
  if (file) {
    const known = new Set(Object.values(spec).map((o) => o.flag));
    for (const key of Object.keys(file)) if (!known.has(key)) problems.push(`config file: unknown key "${key}"`);
  }
  if (problems.length > 0) throw new OptionsError(problems);
  return { values: Object.freeze(values) as Values<S>, positionals };
}

/**
 * `--flag VALUE` as `--flag=VALUE` for every value option, so that a value starting with `-`
 * (`--from -7d`) is taken as --help says rather than refused by parseArgs as ambiguous. Stops at
 * `--`: what follows is a command's own (remonitor record), and `--` is never taken as a value.
 */
function joinValues(argv: string[], options: Record<string, { type: OptionType }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return out.concat(argv.slice(i));
    if (!arg.startsWith('--') || options[arg.slice(2)]?.type !== 'string') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next === '--') throw new Error(`${arg} needs a value, as in ${arg} VALUE`);
    out.push(`${arg}=${next}`);
    i++;
  }
  return out;
}

function readConfigFile(path: string | undefined, problems: string[]): Record<string, unknown> | null {
  if (!path) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`config file ${path}: ${(err as Error).message}`);
    return null;
  }
  const result = v.safeParse(CONFIG_FILE, parsed);
  if (result.success) return result.output;
  problems.push(`config file ${path}: ${result.issues[0].message}`);
  return null;
}

/** A default as a person would type it: milliseconds (keys ending in Ms) as durations, maps as k=v lists. */
export function formatDefault(key: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'number' && /Ms$/.test(key)) return value === 0 ? '0' : formatDuration(value);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? formatDuration(v) : String(v)}`)
      .join(',');
  }
  return String(value);
}

/** Help text for a spec: one line per option with its env variable and default. */
export function describeOptions(spec: Spec): string {
  return Object.entries(spec)
    .map(([key, o]) => {
      const flag = o.type === 'boolean' ? `--${o.flag}` : `--${o.flag} VALUE`;
      const def = o.default === undefined ? '' : ` (default ${formatDefault(key, o.default)})`;
      return `  ${flag.padEnd(26)} ${o.help}${def}  [${envName(o.flag)}]`;
    })
    .join('\n');
}
