// The demo session: a synthetic, clearly labelled hour of a process that leaks under a GC sawtooth,
// so that a new user sees what a leak looks like before watching a real process.
import { analyzeLeak } from '../hub/sessions/leak-verdict.ts';
import { prng, syntheticSeries } from '../hub/sessions/synthetic-memory.ts';
import type { SessionDetail } from '../shared/session-types.ts';

export const DEMO_SESSION_ID = 'demo';
const INTERVAL_MS = 10_000;
const SAMPLES = 360; // one hour
const FILE_BYTES = 28 * 1024 * 1024; // mapped code and libraries: level, as in a real process

export function demoSession(nowMs: number): SessionDetail {
  const end = Math.floor(nowMs / INTERVAL_MS) * INTERVAL_MS;
  const start = end - (SAMPLES - 1) * INTERVAL_MS;
  const rnd = prng(3);
  const memory = syntheticSeries({ shape: 'leaky-sawtooth', samples: SAMPLES, intervalMs: INTERVAL_MS, startMs: start, baseMb: 180 });
  const samples = memory.map((p) => ({
    ts_ms: p.ts_ms,
    rss_bytes: p.rss_bytes,
    rss_anon_bytes: p.rss_bytes - FILE_BYTES,
    rss_file_bytes: FILE_BYTES,
    swap_bytes: 0,
    vsize_bytes: p.rss_bytes * 4,
    cpu_pct: Math.round((8 + rnd() * 6) * 10) / 10,
    procs: 1,
  }));
  return {
    id: DEMO_SESSION_ID,
    node: 'demo-node',
    target: 'name:demo-api (synthetic)',
    interval_ms: INTERVAL_MS,
    source: 'demo',
    state: 'ended',
    started_ms: start,
    stopped_ms: end,
    last_sample_ms: end,
    error: null,
    sample_count: samples.length,
    analysis: analyzeLeak(memory),
    samples,
    exits: [],
    processes: [{ pid: 4242, name: 'demo-api' }],
    demo: true,
  };
}
