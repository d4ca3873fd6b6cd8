// Every part of remonitor but the code that measures a metric learns what it needs of the metric
// from the registry (protocol/metrics.ts): the API's shapes, the fleet page's columns, the default
// alarm rules, /metrics, Home Assistant. So a metric's name is written in at most four source files,
// the registry and its producers (the agent's sampler and collector, the simulator). This counts
// them, so that cannot drift: a fifth file either derives the name from the registry or says here why not.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../protocol/metrics.ts';
import { REPO } from '../helpers/parts.ts';

const SOURCE_DIRS = ['protocol', 'shared', 'edge-agent', 'auth', 'broker', 'hub', 'web', 'cli'];
const REGISTRY = 'protocol/metrics.ts';
const MAX_FILES = 4;

/** A process's (and a container's) CPU has the node metric's name: in these files `cpu_pct` is that field, not the metric. */
const PROCESS_CPU = 'the field of a process (ProcessUsage, the session and process tables) or a container (ContainersSummary), not the node metric';

/** Files that may write a metric's name beyond the four, each with its reason. */
const EXCEPTIONS: Record<string, Record<string, string>> = {
  procs_total: {
    'edge-agent/command-handler.ts': "the snapshot command's reply names the count of the processes it lists so (PROTOCOL.md, Commands): a field of that reply",
  },
  cpu_pct: Object.fromEntries(
    [
      'protocol/sample.ts',
      'protocol/codec.ts',
      'protocol/procs.ts',
      'shared/api-types.ts',
      'shared/session-types.ts',
      'edge-agent/collectors/processes.ts',
      'edge-agent/process-watch.ts',
      'hub/sessions/sessions.ts',
      'hub/storage/node-record.ts',
      'hub/storage/sample-detail.ts',
      'hub/storage/packed-samples.ts',
      'hub/storage/postgres/pg-local-state-copy.ts',
      'hub/storage/postgres/pg-state-schema.ts',
      'hub/storage/postgres/pg-session-store.ts',
      'web/session-routes.ts',
      'web/demo-session.ts',
      'web/client/fleet-table.ts',
      'web/client/fleet-view.ts',
      'web/client/node-page.ts',
      'web/client/session-page.ts',
      'cli/record.ts',
    ].map((file) => [file, PROCESS_CPU]),
  ),
};

/** Every non-test TypeScript file of the source directories, relative to the repository. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(relative(REPO, path));
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(REPO, dir));
  return out.sort();
}

/** The name as a word, as `grep -w` finds it: `load_1` is not in `load_15`, nor `cpu_pct` in `container_cpu_pct`. */
const wordOf = (name: string): RegExp => new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`);

describe('metric names in the source', () => {
  const texts = new Map(sourceFiles().map((f) => [f, readFileSync(join(REPO, f), 'utf8')]));
  const filesNaming = (name: string): string[] => [...texts].filter(([, text]) => wordOf(name).test(text)).map(([f]) => f);

  it.each(METRIC_NAMES)('%s is written in at most four files: the registry and its producers', (name) => {
    const files = filesNaming(name);
    expect(files).toContain(REGISTRY);
    const counted = files.filter((f) => !(f in (EXCEPTIONS[name] ?? {})));
    expect(
      counted.length,
      `${name} is named in ${counted.join(', ')}: derive it from the registry (protocol/metrics.ts), or add the file to EXCEPTIONS with the reason`,
    ).toBeLessThanOrEqual(MAX_FILES);
  });

  it('lists no exception that no longer holds', () => {
    for (const [name, files] of Object.entries(EXCEPTIONS)) {
      expect(METRIC_NAMES as readonly string[], `EXCEPTIONS names ${name}, which is not a metric of the registry`).toContain(name);
      const naming = filesNaming(name);
      for (const file of Object.keys(files)) expect(naming, `${file} no longer names ${name}: take it out of EXCEPTIONS`).toContain(file);
    }
  });
});
