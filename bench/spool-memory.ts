// The agent's memory with a full spool: fills a 64 MB spool with realistic samples, then runs the
// single-file agent bundle on it with no broker reachable (so it keeps sampling and dropping) and
// prints its RSS next to the same agent on an empty spool. Figures only.
// Run: npm run build && node scripts/run-ts.mjs bench/spool-memory.ts [--seconds 20]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Spool } from '../edge-agent/spool.ts';
import { encodeSample } from '../protocol/index.ts';
import { realisticPi4Sample } from '../test/fixtures/realistic-sample.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const seconds = Number(values.seconds);
const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const bundle = new URL('../dist/remonitor-agent.mjs', import.meta.url).pathname;

async function agentRss(spoolDir: string): Promise<{ rss: number; dropped: number }> {
  const child = spawn(
    process.execPath,
    [bundle, '--broker', 'mqtt://127.0.0.1:1', '--node', 'bench', '--interval', '250ms', '--spool-dir', spoolDir, '--log-level', 'error'],
    { stdio: 'ignore' },
  );
  let max = 0;
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    max = Math.max(max, rssMiB(child.pid!));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const spool = new Spool({ dir: spoolDir });
  const dropped = spool.dropped;
  await spool.close();
  return { rss: max, dropped };
}

const full = mkdtempSync(join(tmpdir(), 'remonitor-bench-spool-'));
const empty = mkdtempSync(join(tmpdir(), 'remonitor-bench-spool-'));
const spool = new Spool({ dir: full });
const sample = realisticPi4Sample();
const started = Date.now();
while (spool.bytes < 64 * 1024 * 1024) {
  for (let i = 0; i < 1000; i++) spool.append(Date.now(), (seq) => encodeSample({ ...sample, boot: spool.boot, seq, ts_ms: Date.now() }));
  spool.flush();
}
const records = spool.nextSeq;
spool.close();
console.log(`filled 64 MB spool: ${records} samples in ${Date.now() - started} ms`);
const withFull = await agentRss(full);
const withEmpty = await agentRss(empty);
console.log(
  `agent RSS, ${seconds} s at 4 Hz with no broker: full spool ${withFull.rss.toFixed(1)} MiB (dropped ${withFull.dropped}), empty spool ${withEmpty.rss.toFixed(1)} MiB`,
);
rmSync(full, { recursive: true, force: true });
rmSync(empty, { recursive: true, force: true });
