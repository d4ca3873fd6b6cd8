// Logs read by a person on a terminal are one line an event; piped or under systemd they are JSON
// lines. The real CLI runs under `script`, which gives it a pseudo-terminal as a user's shell does.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

// An agent that cannot reach its broker logs its start (fields), errors (`err`) and retries.
const agentArgs = (spool: string) => [CLI, 'agent', '--broker', 'mqtt://127.0.0.1:1', '--node', 'tty-test', '--spool-dir', spool];

/**
 * Runs a command until its output matches `until` (or `maxSeconds` pass), then ends it and its
 * children by its process group: a loaded machine may take seconds to start the CLI.
 */
function runUntil(until: RegExp, maxSeconds: number, command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      try {
        // SIGKILL: `script` would say "Session terminated" on SIGTERM; its child gets a hang-up.
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(end, maxSeconds * 1000);
    const take = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (until.test(out)) end();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('log lines', () => {
  it('are one readable line per event on a terminal, with the fields and errors on it', async () => {
    const shell = `exec ${process.execPath} ${agentArgs(tempDir()).join(' ')}`;
    const out = (await runUntil(/mqtt error[^\n]*\n/, 30, 'script', ['-qfc', shell, '/dev/null'])).replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR): /);
    expect(out).toMatch(/INFO: agent started \{"node":"tty-test",/);
    expect(out).toMatch(/WARN: mqtt error \{"err":"connect ECONNREFUSED 127\.0\.0\.1:1"\}/);
  });

  it('are JSON lines when stderr is not a terminal', async () => {
    const out = await runUntil(/"msg":"mqtt error"[^\n]*\n/, 30, process.execPath, agentArgs(tempDir()));
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const records = lines.map((l) => JSON.parse(l) as { msg: string; err?: string });
    expect(records.find((r) => r.msg === 'mqtt error')?.err).toMatch(/ECONNREFUSED/);
  });
});
