// The node flags and environment of the shipped systemd unit, for the benchmarks that run the agent
// bundle as it runs on a Pi.
import { readFileSync } from 'node:fs';

/** The node flags and environment the shipped unit starts the agent with, so the bench measures what runs on a Pi. */
export function unitNodeFlags(): { flags: string[]; env: Record<string, string> } {
  const unit = readFileSync(new URL('../deploy/remonitor-agent.service', import.meta.url), 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!exec) throw new Error('deploy/remonitor-agent.service: no ExecStart line');
  const argv = exec.split(' ');
  // Environment=NAME=value lines (one assignment each, unquoted: all the unit uses).
  const env = Object.fromEntries([...unit.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(\S*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return {
    flags: argv.slice(
      1,
      argv.findIndex((a) => /remonitor-agent\.[cm]?js$/.test(a)),
    ),
    env,
  };
}
