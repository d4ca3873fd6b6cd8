// A stored session row turned into what the API lists, with its leak verdict: the same for the
// SQLite and the PostgreSQL session store, which differ only in how they read the rows.
import type { SessionDetail, SessionSample, SessionSource, SessionState, SessionSummary } from '../../shared/session-types.ts';
import { analyzeLeak, beforeTheEnd, type LeakThresholds, type MemoryPoint } from './leak-verdict.ts';

/** A row of the `sessions` table (migration 002; PostgreSQL's pg-state-schema.ts). */
export interface SessionRow {
  id: string;
  node: string;
  target: string;
  interval_ms: number;
  source: string;
  state: string;
  started_ms: number;
  stopped_ms: number | null;
  last_sample_ms: number | null;
  error: string | null;
}

/** The summary of `row`, judged from its memory samples (oldest first). */
export function sessionSummaryOf(row: SessionRow, memory: readonly MemoryPoint[], sampleCount: number, thresholds: Partial<LeakThresholds>): SessionSummary {
  // Ended: its processes are gone, and what they freed on the way out is not the verdict's.
  const judged = row.state === 'ended' && row.stopped_ms !== null ? beforeTheEnd(memory, row.stopped_ms, row.interval_ms) : memory;
  return {
    id: row.id,
    node: row.node,
    target: row.target,
    interval_ms: row.interval_ms,
    source: row.source as SessionSource,
    state: row.state as SessionState,
    started_ms: row.started_ms,
    stopped_ms: row.stopped_ms,
    last_sample_ms: row.last_sample_ms,
    error: row.error,
    sample_count: sampleCount,
    analysis: analyzeLeak(judged, thresholds),
  };
}

/**
 * A session's detail from its summary and its stored samples: each sample's `detail` is the JSON
 * list of its processes as [pid, name, rss, exited], read into the exits and the processes seen.
 */
export function sessionDetailOf(summary: SessionSummary, rows: readonly (SessionSample & { detail: string | null })[]): SessionDetail {
  const exits: SessionDetail['exits'] = [];
  const processes = new Map<number, string>();
  const samples: SessionSample[] = rows.map(({ detail, ...s }) => {
    for (const [pid, name, rss, exited] of (detail ? JSON.parse(detail) : []) as [number, string, number, number][]) {
      processes.set(pid, name);
      if (exited) exits.push({ ts_ms: s.ts_ms, pid, name, last_rss_bytes: rss });
    }
    return s;
  });
  return { ...summary, samples, exits, processes: [...processes].map(([pid, name]) => ({ pid, name })) };
}
