// The rules file as the one source of the rules, on a real hub (embedded broker, SQLite, HTTP):
// edited while the hub runs, its rules change; a version with problems is not applied, each problem
// is logged with the file and shown by GET /api/alarms/rules; an API change after an edit the hub
// has not applied is refused with 409 and writes nothing; PUT replaces the whole set.
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { RulesFile, RulesFileConflict } from '../../hub/alarms/rule-file.ts';
import type { RulesResponse } from '../../shared/alarm-types.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, tempDir, waitFor } from '../helpers/parts.ts';
import { recordingLog } from '../helpers/recording-log.ts';

afterEach(runCleanups);

const doc = (rules: unknown[]) => `${JSON.stringify({ version: 1, rules }, null, 2)}\n`;
const CPU = { id: 'cpu', metric: 'cpu_pct', threshold: 80 };
const MEM = { id: 'memory', metric: 'mem_pct', threshold: 90 };

async function hubWithRules(initial: unknown[], watchRules: { debounceMs: number; pollMs: number }, log = quietLog) {
  const { url } = await startBroker();
  const dataDir = tempDir();
  const file = join(dataDir, 'alarm-rules.json');
  writeFileSync(file, doc(initial));
  const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log, alarms: { watchRules } });
  await hub.start();
  cleanup(() => hub.stop());
  const api = `http://127.0.0.1:${hub.httpPort}`;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const rules = async () => (await getJson<RulesResponse>(`${api}/api/alarms/rules`)).body;
  return { file, api, send, rules };
}

describe('the rules file', () => {
  it('is reloaded when edited, not applied while it has problems, and guarded against overwriting an edit', async () => {
    const { log, lines } = recordingLog();
    const { file, send, rules } = await hubWithRules([CPU], { debounceMs: 50, pollMs: 1000 }, log);
    const first = await rules();
    expect(first.version).toBe(1);
    expect(first.rules).toEqual([CPU]);
    expect(first.file).toMatchObject({ path: file, problems: [] });

    // An edit in place, then one the way editors and git make it (a new file renamed over the old).
    writeFileSync(file, doc([CPU, MEM]));
    await waitFor('the added rule', async () => (await rules()).rules.some((r) => r.id === 'memory'));
    writeFileSync(`${file}.new`, doc([{ ...CPU, threshold: 95 }, MEM]));
    renameSync(`${file}.new`, file);
    await waitFor('the changed threshold', async () => (await rules()).rules[0]?.threshold === 95);
    const loadedAt = (await rules()).file.loaded_at_ms!;

    // A version with problems: the rules in force stay, every problem is shown and logged with the file.
    writeFileSync(
      file,
      doc([
        { ...CPU, threshold: 'high' },
        { id: 'disk', metric: 'fs_pcnt', threshold: 80 },
      ]),
    );
    const refused = await waitFor('the problems shown', async () => {
      const r = await rules();
      return r.file.problems.length > 0 ? r : null;
    });
    expect(refused.file.problems.map((p) => p.field)).toEqual(['rules[0].threshold', 'rules[1].metric']);
    expect(refused.rules.map((r) => [r.id, r.threshold])).toEqual([
      ['cpu', 95],
      ['memory', 90],
    ]);
    expect(refused.file.loaded_at_ms).toBe(loadedAt);
    const logged = lines.filter((l) => l.msg.startsWith('alarm rules file has a problem'));
    expect(logged.map((l) => [l['file'], l['field']])).toEqual([
      [file, 'rules[0].threshold'],
      [file, 'rules[1].metric'],
    ]);

    // An API change now would overwrite the person's edit: refused, nothing written.
    const conflict = await send('PUT', '/api/alarms/rules/cpu', { metric: 'cpu_pct', threshold: 70 });
    expect(conflict.status).toBe(409);
    expect(conflict.body['error']).toContain(`${file} changed on disk since the hub last read it`);
    expect(conflict.body['error']).toContain('rules[0].threshold: must be a finite number');
    expect(conflict.body['problems'][0].field).toBe('file');
    expect(readFileSync(file, 'utf8')).toContain('"high"');

    // Fixed: applied, the problems gone, and the API may change it again.
    writeFileSync(file, doc([{ ...CPU, threshold: 85 }]));
    await waitFor('the fixed file applied', async () => {
      const r = await rules();
      return r.file.problems.length === 0 && r.rules.length === 1 && r.rules[0]!.threshold === 85;
    });
    expect((await send('PUT', '/api/alarms/rules/cpu', { metric: 'cpu_pct', threshold: 70 })).status).toBe(200);
    expect(JSON.parse(readFileSync(file, 'utf8')).rules).toEqual([{ id: 'cpu', metric: 'cpu_pct', threshold: 70 }]);
  }, 60_000);

  it('refuses an API change after an edit the hub has not read yet, but not after a mere touch', async () => {
    // The watch so slow that the edit below stays unread for the whole test.
    const { file, send, rules } = await hubWithRules([CPU], { debounceMs: 600_000, pollMs: 600_000 });
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later); // same content, new mtime
    expect((await send('POST', '/api/alarms/rules', MEM)).status).toBe(201);

    writeFileSync(file, doc([CPU, MEM, { id: 'swap', metric: 'swap_pct', threshold: 50 }]));
    const refused = await send('DELETE', '/api/alarms/rules/cpu');
    expect(refused.status).toBe(409);
    expect(refused.body['error']).toMatch(/changed on disk since the hub last read it .*the hub reloads it within seconds\. Nothing was written/);
    expect(JSON.parse(readFileSync(file, 'utf8')).rules.map((r: { id: string }) => r.id)).toEqual(['cpu', 'memory', 'swap']);
    expect((await rules()).rules.map((r) => r.id)).toEqual(['cpu', 'memory']);
  }, 30_000);

  it("exports and imports the whole set: GET gives the file's JSON, PUT replaces it after checking every rule", async () => {
    const { file, send, rules } = await hubWithRules([CPU, MEM], { debounceMs: 50, pollMs: 1000 });
    const exported = await rules();
    const { file: _status, ...document } = exported;
    expect(document).toEqual(JSON.parse(readFileSync(file, 'utf8')));

    const bad = await send('PUT', '/api/alarms/rules', { version: 2, rules: [CPU, { id: 'cpu', metric: 'mem_pct', threshold: 101 }], extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body['problems'].map((p: { field: string }) => p.field)).toEqual(['version', 'rules[1].threshold', 'rules[1].id', 'extra']);
    expect((await rules()).rules).toEqual([CPU, MEM]);

    const imported = await send('PUT', '/api/alarms/rules', { version: 1, rules: [MEM, { id: 'swap', metric: 'swap_pct', threshold: 50, enabled: false }] });
    expect(imported.status).toBe(200);
    expect(imported.body['rules'].map((r: { id: string }) => r.id)).toEqual(['memory', 'swap']);
    expect(JSON.parse(readFileSync(file, 'utf8')).rules.map((r: { id: string }) => r.id)).toEqual(['memory', 'swap']);
    // Its own write is not taken for an outside edit.
    await new Promise((r) => setTimeout(r, 300));
    expect((await send('DELETE', '/api/alarms/rules/swap')).status).toBe(200);
  }, 30_000);

  it('forgets a refused edit that is put back as it was, and refuses while a bad one stays', () => {
    const path = join(tempDir(), 'alarm-rules.json');
    const file = new RulesFile(path);
    expect(file.load(() => [CPU])).toEqual([CPU]);
    const applied = readFileSync(path, 'utf8');
    writeFileSync(path, doc([{ ...CPU, threshold: 'high' }]));
    expect(file.check()).toEqual({ problems: [{ field: 'rules[0].threshold', problem: 'must be a finite number, got "high"' }] });
    expect(file.check()).toBeNull(); // the same bad version: nothing new to say
    expect(() => file.write([MEM])).toThrow(RulesFileConflict);
    writeFileSync(path, applied);
    file.write([MEM]);
    expect(file.status().problems).toEqual([]);
    expect(JSON.parse(readFileSync(path, 'utf8')).rules).toEqual([MEM]);
  });
});
