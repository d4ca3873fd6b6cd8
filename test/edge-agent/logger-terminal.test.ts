// Logs read by a person on a terminal are one line an event; piped or under systemd they are JSON
// lines. The real CLI runs under `script`, which gives it a pseudo-terminal as a user's shell does.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

// An agent that cannot reach its broker logs its start (fields), errors (`err`) and retries.
const agentArgs = (spool: string) => [CLI, 'agent', '--broker', 'mqtt://127.0.0.1:1', '--node', 'tty-test', '--spool-dir', spool];

function runFor(seconds: number, command: string, args: string[]): string {
  try {
    return execFileSync('timeout', [String(seconds), command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`; // timeout ends it with 124, as meant
  }
}

describe('log lines', () => {
  it('are one readable line per event on a terminal, with the fields and errors on it', () => {
    const shell = `timeout 4 ${process.execPath} ${agentArgs(tempDir()).join(' ')}`;
    const out = runFor(30, 'script', ['-qfc', shell, '/dev/null'])
      .replace(/\x1b\[[0-9;]*m/g, '')
      .replace(/\r/g, '');
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR): /);
    expect(out).toMatch(/INFO: agent started \{"node":"tty-test",/);
    expect(out).toMatch(/WARN: mqtt error \{"err":"connect ECONNREFUSED 127\.0\.0\.1:1"\}/);
  });

  it('are JSON lines when stderr is not a terminal', () => {
    const out = runFor(3, process.execPath, agentArgs(tempDir()));
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const records = lines.map((l) => JSON.parse(l) as { msg: string; err?: string });
    expect(records.find((r) => r.msg === 'mqtt error')?.err).toMatch(/ECONNREFUSED/);
  });
});
