// A command-line session on a real process started under wrappers (timeout, sh -c, remonitor
// record): a real agent process watches it for a real hub, counts only the innermost process, and
// the session ends by itself once that process has exited.
import { afterEach, describe, expect, it } from 'vitest';
import { hubWithAgent, post } from '../helpers/hub-with-agent.ts';
import { CLI, getJson, runCleanups, spawnProcess, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('a session whose processes exit', () => {
  it('counts only the innermost of timeout, sh -c and remonitor record, and ends by itself when it exits', async () => {
    const { api } = await hubWithAgent('end-a');
    const tag = `rm-wrapped-${process.pid}`;
    const code = 'console.log("inner", process.pid); const k = Buffer.alloc(8 << 20, 1); setTimeout(() => k.length, 3000)';
    // sh runs "true" after the command, so it stays as the command's parent instead of exec-ing it.
    const script = `${process.execPath} ${CLI} record --quiet -- ${process.execPath} -e '${code}' ${tag}; true`;
    const chain = spawnProcess('timeout', ['30', 'sh', '-c', script], { group: true });
    const inner = Number((await chain.waitForLine(/inner (\d+)/))[1]);
    expect(inner).not.toBe(chain.child.pid);

    const started = await post(`${api}/api/sessions`, { node: 'end-a', target: `cmdline:${tag}`, interval: '250ms' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    // timeout, sh and remonitor record all have the pattern in their command lines too.
    expect(started.body.result.matched).toEqual([inner]);
    const id = started.body.id as string;

    expect((await chain.exited).code).toBe(0);
    const ended = await waitFor('the session ended by itself', async () => {
      const { body } = await getJson(`${api}/api/sessions/${id}`);
      return body.state === 'ended' ? body : null;
    });
    expect(ended.processes).toEqual([{ pid: inner, name: 'node' }]);
    expect(ended.exits).toMatchObject([{ pid: inner, name: 'node' }]);
    expect(ended.exits[0].last_rss_bytes).toBeGreaterThan(8 << 20);
    expect(Math.max(...ended.samples.map((s: { procs: number }) => s.procs))).toBe(1);
    // It ended 3 s (the grace at 250 ms) after the last sample that saw the process, by the samples' clock.
    const lastLive = ended.samples.filter((s: { procs: number }) => s.procs > 0).at(-1).ts_ms;
    expect(ended.stopped_ms - lastLive).toBeGreaterThanOrEqual(3000);
    expect(ended.stopped_ms - lastLive).toBeLessThan(3000 + 2000);
    // The hub dropped the agent's watch, so no more samples come.
    await waitFor('the watch dropped on the agent', async () => !(await getJson(`${api}/api/nodes/end-a/control`)).body.watches.includes(id));
    const count = (await getJson(`${api}/api/sessions/${id}`)).body.sample_count;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getJson(`${api}/api/sessions/${id}`)).body.sample_count).toBe(count);
    // Stopping it now changes nothing: it stays ended.
    expect((await post(`${api}/api/sessions/${id}/stop`)).status).toBe(200);
    expect((await getJson(`${api}/api/sessions/${id}`)).body.state).toBe('ended');
  });

  it('ends a pid session once its process has exited', async () => {
    const { api } = await hubWithAgent('end-b');
    const target = spawnProcess(process.execPath, ['-e', 'setTimeout(() => {}, 1500)']);
    const started = await post(`${api}/api/sessions`, { node: 'end-b', target: `pid:${target.child.pid}`, interval: '250ms' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    await target.exited;
    const ended = await waitFor('the pid session ended', async () => {
      const { body } = await getJson(`${api}/api/sessions/${id}`);
      return body.state === 'ended' ? body : null;
    });
    expect(ended.exits).toMatchObject([{ pid: target.child.pid }]);
  });
});
