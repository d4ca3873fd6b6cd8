// `remonitor up` on its secure default: an admin creates a node's token from the dashboard's API
// (what the "Add a node" dialog calls), an agent joins with exactly that token, and its samples
// are stored; with a wrong token the broker refuses the node, and nobody signed out may enrol.
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCleanups, signInAsPrintedAdmin, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('enrolling a node from the dashboard', () => {
  it('gives a token that lets exactly that node in, and nobody signed out can create one', async () => {
    const dataDir = tempDir();
    const up = spawnProcess(process.execPath, [CLI, 'up', '--no-agent', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    const [, dashboard, mqttUrl] = await up.waitForLine(/dashboard at (http:\/\/\S+)\s+\(MQTT at (mqtt:\/\/\S+?),/);
    const admin = await signInAsPrintedAdmin(up, dashboard!);

    const anonymous = await fetch(new URL('/api/enrolments', dashboard), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"node":"garage-pi"}',
    });
    expect(anonymous.status).toBe(401);
    const enrolled = await admin.postJson('/api/enrolments', { node: 'garage-pi' });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.token).toMatch(/^rmt_[A-Za-z0-9_-]{43}$/);
    expect((await admin.postJson('/api/enrolments', { node: 'garage-pi' })).status).toBe(409);
    expect((await admin.postJson('/api/enrolments', { node: 'bad/name' })).body.error).toMatch(/contains "\/"/);
    // Every problem of the body at once, each with its field.
    expect((await admin.postJson('/api/enrolments', { node: 'bad/name', tags: ['UPPER'] })).body.error).toMatch(
      /^node: node name "bad\/name" contains "\/".*; tags: tag "UPPER" must be lowercase/,
    );

    const agentArgs = [CLI, 'agent', '--broker', mqttUrl!, '--node', 'garage-pi', '--interval', '250ms', '--spool-dir', tempDir(), '--log-level', 'warn'];
    const agent = spawnProcess(process.execPath, [...agentArgs, '--username', 'garage-pi', '--password', enrolled.body.token]);
    await waitFor('garage-pi stored', async () => (await admin.getJson('/api/nodes/garage-pi')).body.latest, 20_000);

    // The same node name with a wrong token: refused at CONNECT (the agent says so and retries).
    const impostor = spawnProcess(process.execPath, [...agentArgs, '--username', 'garage-pi', '--password', 'rmt_wrong']);
    await impostor.waitForLine(/Bad username or password/);
    agent.child.kill('SIGTERM');
    await agent.exited;
  });
});
