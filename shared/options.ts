// Options from flags, REMONITOR_* environment variables and a JSON config file, in that order of
// precedence, checked once against a spec: every problem is reported together, naming its source.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDuration } from '../protocol/index.ts';

export type OptionType = 'string' | 'boolean';

export interface OptionSpec<T = unknown> {
  type: OptionType;
  /** Flag name without dashes, also the config-file key; the env name is REMONITOR_<FLAG_IN_CAPS>. */
  flag: string;
  help: string;
  default?: T;
  /** Turns the raw text into the value, or returns a problem string. */
  parse?: (raw: string) => T | { problem: string };
}

export type Spec = Record<string, OptionSpec>;
export type Values<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'OptionsError';
  }
}

export const envName = (flag: string) => `REMONITOR_${flag.toUpperCase().replace(/-/g, '_')}`;

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
    if (option.type === 'boolean') {
      const bool = typeof raw === 'boolean' ? raw : raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : null;
      if (bool === null) problems.push(`${source}: expected true or false, got ${JSON.stringify(raw)}`);
      values[key] = bool;
      continue;
    }
    const text = String(raw);
    const parsed = option.parse ? option.parse(text) : text;
    if (parsed !== null && typeof parsed === 'object' && 'problem' in parsed) {
      problems.push(`${source}: ${parsed.problem} (got ${JSON.stringify(text)})`);
    } else {
      values[key] = parsed;
    }
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
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${path}: expected a JSON object of options`);
      return null;
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    problems.push(`config file ${path}: ${(err as Error).message}`);
    return null;
  }
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

// Parsers shared by the commands' specs.

export function port(raw: string): number | { problem: string } {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : { problem: 'must be a port number 0–65535' };
}

export function brokerUrl(raw: string): string | { problem: string } {
  try {
    const url = new URL(raw);
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(url.protocol)) {
      return { problem: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' };
    }
    return raw;
  } catch {
    return { problem: 'must be a URL such as mqtt://hub.local:1883' };
  }
}
