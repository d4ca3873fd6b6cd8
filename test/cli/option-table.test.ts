// Every flag of every command parses as its --help says, as a table: the flags --help lists are the
// flags parsed; a boolean `--flag` is true (and `--no-flag` is no silent negation); a value flag
// takes the next argument even when it starts with "-" (`--from -7d`), and `--flag V`, `--flag=V`
// and REMONITOR_FLAG=V all give the same value. The help text itself is checked against the real
// binary's --help output for each command.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/command-table.ts';
import { envName, OptionsError, resolveOptions, type Spec } from '../../shared/options.ts';
import { CLI, REPO, runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

const dir = tempDir();
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const configFile = join(dir, 'config.json');
writeFileSync(configFile, '{}');

/** A valid value for each value flag; a flag missing here fails the test, so a new flag gets a row. */
const SAMPLE: Record<string, string> = {
  'ack-interval': '1s',
  backfill: '7d',
  'backfill-step': '5m',
  broker: 'mqtt://hub-1:1883',
  ca: caFile,
  config: configFile,
  connections: '2',
  count: '5',
  'data-dir': '/srv/remonitor',
  'disable-collectors': 'smart,clock',
  duration: '30s',
  exec: 'queue=mailq-count --prom@30s',
  format: 'json',
  from: '-7d',
  'group-url': 'http://hub-1:8080',
  'public-url': 'https://monitor.example',
  'home-assistant-interval': '30s',
  host: '0.0.0.0',
  html: 'report.html',
  'http-port': '0',
  hub: 'http://hub-1:8080',
  'hub-host': 'hub-1',
  'hub-id': 'h1',
  interval: '2s',
  'leak-thresholds': '{"minSlopeMbPerHour": 5}',
  'log-level': 'debug',
  'max-rss': '512MB',
  metrics: 'cpu_pct,mem_pct',
  'mqtt-port': '0',
  'mqtts-port': '8884',
  node: 'ci',
  nodes: '10',
  out: 'report.json',
  password: '-starts-with-a-dash',
  prefix: 'p',
  'process-interval': '10s',
  'public-broker': 'mqtt://hub-1:1883',
  retention: 'raw=24h',
  role: 'operator',
  scenarios: 'leak,dies',
  services: 'nginx,ssh',
  'shared-group': 'g1',
  'spool-dir': '/var/spool/remonitor',
  'spool-max': '16MB',
  'spool-max-age': '1d',
  'stale-after': '7d',
  storage: 'postgres://u:p@db/remonitor',
  tags: 'ci,room:kitchen',
  'textfile-dir': '/var/lib/remonitor/textfile',
  'tls-cert': 'cert.pem',
  'tls-key': 'key.pem',
  to: '-1h',
  token: 'rmt_x',
  username: 'ci',
  'ws-port': '0',
};

/** The flags a usage text lists: `--flag` for a boolean, `--flag VALUE` (or FILE) for a value. */
function helpFlags(usage: string): Map<string, 'boolean' | 'string'> {
  const flags = new Map<string, 'boolean' | 'string'>();
  for (const m of usage.matchAll(/^\s+--([a-z][a-z0-9-]*)( [A-Z]+)?\s/gm)) flags.set(m[1]!, m[2] ? 'string' : 'boolean');
  return flags;
}

const parse = (spec: Spec, argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions(spec, argv, env).values as Record<string, unknown>;
/** The values, or the problems with where each came from taken out (a flag and its env say the same). */
function outcome(run: () => Record<string, unknown>): unknown {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    return err.problems.map((p) => p.replace(/^(--[a-z0-9-]+|REMONITOR_[A-Z0-9_]+): /, 'SOURCE: '));
  }
}

describe('every flag of every command', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    const options = Object.entries(command.spec);
    describe(`remonitor ${name}`, () => {
      it('lists in --help exactly the flags it parses, each with its kind', () => {
        const listed = helpFlags(command.usage);
        listed.delete('config'); // every command takes --config; the agent's help says so
        expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(options.map(([, o]) => [o.flag, o.type])));
      });

      for (const [key, option] of options.filter(([, o]) => o.type === 'boolean')) {
        it(`--${option.flag} turns ${key} on; its default is off; --no-${option.flag} is not a flag`, () => {
          expect(parse(command.spec, [`--${option.flag}`])[key]).toBe(true);
          expect(parse(command.spec, [])[key]).toBe(false);
          expect(parse(command.spec, [], { [envName(option.flag)]: 'true' })[key]).toBe(true);
          expect(() => parse(command.spec, [`--no-${option.flag}`])).toThrow(new RegExp(`Unknown option '--no-${option.flag}'`));
        });
      }

      for (const [key, option] of options.filter(([, o]) => o.type === 'string')) {
        it(`--${option.flag} VALUE, --${option.flag}=VALUE and ${envName(option.flag)} agree, for a value starting with "-" too`, () => {
          const sample = SAMPLE[option.flag];
          expect(sample, `no sample value for --${option.flag} in this test's table`).toBeDefined();
          const fromEnv = parse(command.spec, [], { [envName(option.flag)]: sample })[key];
          expect(fromEnv).toBeDefined();
          expect(parse(command.spec, [`--${option.flag}`, sample!])[key]).toEqual(fromEnv);
          expect(parse(command.spec, [`--${option.flag}=${sample}`])[key]).toEqual(fromEnv);
          // Taken as the value whatever it starts with: the flag's own check decides, as for the env.
          const dashed = outcome(() => parse(command.spec, [`--${option.flag}`, '-7d']));
          expect(dashed).toEqual(outcome(() => parse(command.spec, [], { [envName(option.flag)]: '-7d' })));
          // Values and positionals keep their places.
          const { positionals } = resolveOptions(command.spec, ['first', `--${option.flag}`, sample!, 'second'], {});
          expect(positionals).toEqual(['first', 'second']);
        });
      }

      it('takes --config FILE like any value flag, and refuses a value flag with nothing after it', () => {
        expect(() => parse(command.spec, ['--config', configFile])).not.toThrow();
        const last = options.find(([, o]) => o.type === 'string')?.[1].flag ?? 'config';
        expect(() => parse(command.spec, [`--${last}`])).toThrow(new RegExp(`--${last} needs a value, as in --${last} VALUE`));
      });
    });
  }

  it('keeps `up --no-agent` off the agent, as the Dockerfile relies on', () => {
    const { values } = resolveOptions(COMMANDS.up!.spec, ['--no-agent'], {});
    expect((values as Record<string, unknown>).noAgent).toBe(true);
    expect((values as Record<string, unknown>).agent).toBeUndefined();
    expect((resolveOptions(COMMANDS.up!.spec, [], { REMONITOR_NO_AGENT: 'true' }).values as Record<string, unknown>).noAgent).toBe(true);
  });

  it("leaves everything after `--` to the recorded command, even a value flag's name", () => {
    const { values, positionals } = resolveOptions(COMMANDS.record!.spec, ['--out', 'r.json', '--', 'npm', '--out', '-x', '--quiet'], {});
    expect((values as Record<string, unknown>).out).toBe('r.json');
    expect((values as Record<string, unknown>).quiet).toBe(false);
    expect(positionals).toEqual(['npm', '--out', '-x', '--quiet']);
    expect(() => resolveOptions(COMMANDS.record!.spec, ['--out', '--', 'npm'], {})).toThrow(/--out needs a value, as in --out VALUE/);
  });
});

describe('the real binary', () => {
  it('prints for `remonitor COMMAND --help` the usage the table above checked', async () => {
    const names = Object.keys(COMMANDS);
    // Two at a time: each is a Node start-up on a small machine.
    const printed = new Map<string, string>();
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(names.slice(i, i + 2).map(async (name) => printed.set(name, await stdoutOf([name, '--help']))));
    }
    for (const name of names) expect(printed.get(name), name).toBe(`${COMMANDS[name]!.usage}\n`);
  });
});

/** Runs the built CLI to completion (killed by its PID after 20 s) and returns its stdout. */
function stdoutOf(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', () => {
      clearTimeout(timer);
      resolve(out);
    }),
  );
}
