// A node's own metrics end to end: the real agent (the CLI) with --textfile-dir and --exec, a real
// broker and hub (SQLite); the values come back from GET /api/nodes/:node/labelled/:metric and
// /metrics. A bad line in a file costs that line and one log line naming the file and line, and
// the agent keeps running.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabelledListResponse, LabelledSeriesResponse } from '../../shared/api-types.ts';
import { CLI, getJson, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('custom metrics', () => {
  it('carries textfile and exec metrics from the agent to the labelled API and /metrics', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const dir = tempDir();
    writeFileSync(
      join(dir, 'backup.prom'),
      '# HELP backup_age_seconds since the last backup\n# TYPE backup_age_seconds gauge\nbackup_age_seconds{job="nightly"} 3600\nnot a metric\n',
    );
    const agent = spawnProcess(process.execPath, [
      CLI,
      'agent',
      '--broker',
      url,
      '--node',
      'own',
      '--interval',
      '250ms',
      '--textfile-dir',
      dir,
      '--exec',
      `queue=echo 'queue_depth{queue="mail"} 4'; echo 'queue_depth{queue="sms"} 9'@1s`,
      '--disable-collectors',
      'containers,services,storage,smart,clock',
    ]);

    const series = async (metric: string) =>
      (await getJson<LabelledSeriesResponse>(`${api}/api/nodes/own/labelled/${metric}?from=${Date.now() - 60_000}&to=${Date.now() + 1000}`)).body;
    const backup = await waitFor('backup_age_seconds stored', async () => {
      const s = await series('backup_age_seconds');
      return s.labels?.length ? s : undefined;
    });
    expect(backup.labels).toEqual([{ job: 'nightly' }]);
    expect(new Set(backup.data[1]!.filter((v) => v !== null))).toEqual(new Set([3600]));
    const queue = await waitFor('queue_depth stored', async () => {
      const s = await series('queue_depth');
      return s.labels?.length === 2 ? s : undefined;
    });
    expect(queue.labels).toEqual([{ queue: 'mail' }, { queue: 'sms' }]);
    expect(queue.data[1]!.filter((v) => v !== null).at(-1)).toBe(4);
    expect(queue.data[2]!.filter((v) => v !== null).at(-1)).toBe(9);

    // A changed file is read again.
    writeFileSync(join(dir, 'backup.prom'), 'backup_age_seconds{job="nightly"} 60\n');
    await waitFor('the new value', async () => (await series('backup_age_seconds')).data[1]!.filter((v) => v !== null).at(-1) === 60);

    const list = (await getJson<LabelledListResponse>(`${api}/api/nodes/own/labelled`)).body;
    expect(list.metrics.find((m) => m.name === 'queue_depth')).toMatchObject({ unit: null, labels: [{ queue: 'mail' }, { queue: 'sms' }] });

    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/^remonitor_custom_queue_depth\{node="own",queue="mail"\} 4$/m);
    expect(metrics).toMatch(/^remonitor_custom_backup_age_seconds\{node="own",job="nightly"\} 60$/m);

    // One line for the bad line, naming file and line; the agent still runs.
    expect(agent.output().match(/backup\.prom line 4: /g)).toHaveLength(1);
    expect(agent.output()).toContain(JSON.stringify(`textfile ${join(dir, 'backup.prom')} line 4: value "a" is not a number`).slice(1, -1)); // as the JSON log writes it
    expect(agent.child.exitCode).toBeNull();
  }, 60_000);
});
