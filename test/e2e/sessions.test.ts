// Sessions end to end: a real agent process watches a real process for the hub; remonitor record
// publishes its session; the per-process history; the session page in headless Chromium.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hubWithAgent, post } from '../helpers/hub-with-agent.ts';
import { CLI, getJson, REPO, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { launchBrowser } from '../helpers/browser.ts';

afterEach(runCleanups);

describe('sessions', () => {
  it('records a watch started over REST, sees its process exit and ends, exports it; stops another', async () => {
    const { api } = await hubWithAgent('sess-a');
    const tag = `rm-session-${process.pid}`;
    const target = spawnProcess(process.execPath, ['-e', 'const k = Buffer.alloc(6 << 20, 1); setTimeout(() => k.length, 2500)', tag]);
    const started = await post(`${api}/api/sessions`, { node: 'sess-a', target: `cmdline:${tag}`, interval: '250ms' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body.result.matched).toEqual([target.child.pid]);
    const id = started.body.id as string;

    await target.exited;
    const detail = await waitFor('the exit in the session', async () => {
      const { body } = await getJson(`${api}/api/sessions/${id}`);
      return body.exits.length === 1 ? body : null;
    });
    expect(detail).toMatchObject({ node: 'sess-a', target: `cmdline:${tag}`, source: 'hub' });
    expect(detail.exits[0]).toMatchObject({ pid: target.child.pid, name: 'node' });
    expect(detail.exits[0].last_rss_bytes).toBeGreaterThan(6 << 20);
    expect(detail.samples[0].rss_anon_bytes).toBeGreaterThan(0);
    expect(detail.analysis.verdict).toBeDefined();
    // Nothing matches any more: the session ends by itself (test/e2e/session-end.test.ts has the details).
    await waitFor('the session ended', async () => (await getJson(`${api}/api/sessions/${id}`)).body.state === 'ended');

    // A session whose process lives on runs until stopped.
    const other = await post(`${api}/api/sessions`, { node: 'sess-a', target: `pid:${process.pid}`, interval: '250ms' });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    const stopped = await post(`${api}/api/sessions/${other.body.id}/stop`);
    expect(stopped.status).toBe(200);
    expect((await getJson(`${api}/api/sessions/${other.body.id}`)).body.state).toBe('stopped');
    const csv = await (await fetch(`${api}/api/sessions/${id}/export?format=csv`)).text();
    expect(csv.split('\n')[0]).toBe('time,ts_ms,rss_bytes,rss_anon_bytes,rss_file_bytes,swap_bytes,vsize_bytes,cpu_pct,procs');
    const [time, tsMs] = csv.split('\n')[1]!.split(',');
    expect(time).toBe(new Date(Number(tsMs)).toISOString());
    expect(csv.split('\n').length).toBeGreaterThan(3);
    expect((await getJson(`${api}/api/sessions`)).body.sessions.map((s: { id: string }) => s.id)).toContain(id);
  });

  it('refuses bad sessions with every problem, and an offline node plainly', async () => {
    const { api } = await hubWithAgent('sess-b');
    const bad = await post(`${api}/api/sessions`, { node: 'bad name', target: 'pid:x', interval: '10ms' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe(
      'node: node name "bad name" contains " "; allowed are A-Z a-z 0-9 . _ -; target: target "pid:x": pid must be a positive integer; interval: "10ms" must be a duration between 250ms and 1h',
    );
    const missing = await post(`${api}/api/sessions`, { target: true, interval_ms: 100 });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe(
      'node: is required; target: must be text like "name:nginx", "pid:1234" or "cmdline:app.js", got true; interval_ms: 100 must be a duration between 250ms and 1h',
    );
    const list = await post(`${api}/api/sessions`, [{ node: 'sess-b' }]);
    expect([list.status, list.body.error]).toEqual([400, 'the body must be a JSON object like {"node": "pi-4", "target": "name:nginx", "interval": "1s"}']);
    expect((await post(`${api}/api/sessions`, { node: 'nobody', target: 'name:x' })).status).toBe(404);
  });

  it('shows a session published by remonitor record --broker, with its verdict', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const out = join(tempDir(), 'report.json');
    const rec = spawnProcess(process.execPath, [
      CLI,
      'record',
      '--quiet',
      '--interval',
      '250ms',
      '--out',
      out,
      '--broker',
      url,
      '--node',
      'ci-1',
      '--',
      process.execPath,
      join(REPO, 'test/fixtures/programs/leaker.mjs'),
    ]);
    expect((await rec.exited).code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const session = await waitFor('the recorded session ended at the hub', async () => {
      const { body } = await getJson(`${api}/api/sessions`);
      return body.sessions.find((s: { source: string; state: string }) => s.source === 'record' && s.state === 'ended');
    });
    // The hub, from the published samples, comes to the verdict the command line came to.
    expect(session).toMatchObject({ id: report.session, node: 'ci-1', analysis: { verdict: report.analysis.verdict } });
    expect(session.sample_count).toBeGreaterThanOrEqual(10);
  });

  it("keeps per-process averages and history from the samples' top lists", async () => {
    const { api } = await hubWithAgent('sess-c');
    const list = await waitFor('process averages', async () => {
      const { body } = await getJson(`${api}/api/processes?window=5m&node=sess-c`);
      return body.processes.length > 0 ? body.processes : null;
    });
    expect(list[0]).toMatchObject({ node: 'sess-c', name: expect.any(String), cpu_pct: expect.any(Number), rss_bytes: expect.any(Number) });
    const name = encodeURIComponent(list[0].name);
    const { body } = await getJson(`${api}/api/processes/sess-c/${name}/history?from=-5m`);
    expect(body.points.length).toBeGreaterThan(0);
    // The same node picked by its IP address, which the agent puts in its birth record.
    const ip = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    if (ip) {
      await waitFor('the birth record', async () => (await getJson(`${api}/api/nodes/sess-c`)).body.info?.ip_addresses?.includes(ip));
      const byIp = await getJson(`${api}/api/processes?window=5m&node=${ip}`);
      expect(byIp.status).toBe(200);
      expect(new Set(byIp.body.processes.map((p: { node: string }) => p.node))).toEqual(new Set(['sess-c']));
    }
    expect((await getJson(`${api}/api/processes?window=forever`)).status).toBe(400);
    expect((await getJson(`${api}/api/processes?node=10.9.9.9`)).status).toBe(404);
  });

  it('pauses the agent and watches a process in one click from the node page', async () => {
    const { api } = await hubWithAgent('sess-d');
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${api}/nodes/sess-d`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#node-controls:not([hidden])');
    await page.click('[data-control="toggle"]');
    await page.waitForFunction(() => document.querySelector('[data-control="state"]')?.textContent?.startsWith('Sampling paused'));
    expect((await getJson(`${api}/api/nodes/sess-d/control`)).body.paused).toBe(true);
    await page.click('[data-control="toggle"]');
    await page.waitForFunction(() => document.querySelector('[data-control="state"]')?.textContent?.startsWith('Sampling every'));
    const button = page.locator('table[data-procs="mem"] button.watch-button').first();
    await button.waitFor();
    const pid = await button.getAttribute('data-pid');
    await button.click();
    await page.waitForURL(/\/sessions\/s-/);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#target')).toBe(`pid:${pid}`);
    await page.waitForFunction(() => Number(document.querySelector('figure[data-chart="memory"]')?.getAttribute('data-points')) >= 2);
  });

  it('draws the session page: memory chart and verdict, for a real session and the demo', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const rec = spawnProcess(process.execPath, [
      CLI,
      'record',
      '--quiet',
      '--interval',
      '250ms',
      '--broker',
      url,
      '--node',
      'ci-2',
      '--',
      process.execPath,
      join(REPO, 'test/fixtures/programs/leaker.mjs'),
    ]);
    await rec.exited;
    const session = await waitFor('the session', async () =>
      (await getJson(`${api}/api/sessions`)).body.sessions.find((s: { state: string }) => s.state === 'ended'),
    );
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${api}/sessions/${session.id}`);
    await page.waitForSelector('body[data-ready="true"]');
    // The page says what the API says (the verdict on real processes is the record test's business).
    const { verdict, headline } = (await getJson(`${api}/api/sessions/${session.id}`)).body.analysis;
    expect(await page.textContent('#verdict')).toBe(headline);
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe(verdict);
    expect(await page.textContent('[data-figure="slope"]')).toMatch(/^-?[\d.]+ MB\/h$/);
    expect(Number(await page.getAttribute('figure[data-chart="memory"]', 'data-points'))).toBeGreaterThanOrEqual(10);
    expect(await page.locator('figure[data-chart="memory"] canvas').count()).toBe(1);
    expect(await page.locator('figure[data-chart="memory"] .u-legend').textContent()).toContain('fitted slope');
    await page.screenshot({ path: join(REPO, 'test-results/session.png') });

    await page.goto(`${api}/sessions/demo`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.isVisible('#demo-note')).toBe(true);
    expect(await page.textContent('#verdict')).toBe('Leak suspected');

    await page.goto(`${api}/sessions`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#demo-link')).toContain('synthetic');
    expect(await page.locator(`tr[data-session="${session.id}"]`).count()).toBe(1);
  });
});
