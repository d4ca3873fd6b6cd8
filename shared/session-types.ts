// Shapes of the sessions, commands and per-process API (issue 3), shared by routes and browser code.
import type { LeakAnalysis } from './leak-analysis.ts';

export type SessionSource = 'hub' | 'agent' | 'record' | 'demo';
/** running: samples arrive; stopped: by a person; ended: its processes exited (hub/sessions/session-lifetime.ts) or the recorded command did; failed: the agent refused it. */
export type SessionState = 'running' | 'stopped' | 'ended' | 'failed';

export interface SessionSummary {
  id: string;
  node: string;
  target: string;
  interval_ms: number;
  source: SessionSource;
  state: SessionState;
  started_ms: number;
  stopped_ms: number | null;
  last_sample_ms: number | null;
  error: string | null;
  sample_count: number;
  analysis: LeakAnalysis;
}

/** One watch sample: sums over the session's live processes (bytes, % of one core). */
export interface SessionSample {
  ts_ms: number;
  rss_bytes: number;
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  swap_bytes: number | null;
  vsize_bytes: number | null;
  cpu_pct: number | null;
  procs: number;
}

/** GET /api/sessions/:id[?since=ts_ms] */
export interface SessionDetail extends SessionSummary {
  samples: SessionSample[];
  /** Processes seen to exit, with their last RSS. */
  exits: { ts_ms: number; pid: number; name: string; last_rss_bytes: number }[];
  processes: { pid: number; name: string }[];
  /** True for the synthetic demo session. */
  demo?: boolean;
}

/** GET /api/sessions */
export interface SessionsResponse {
  sessions: SessionSummary[];
}

/** POST /api/nodes/:node/commands: the agent's reply, or where to poll for it. */
export type CommandResponse =
  | { id: string; status: 'replied'; ok: boolean; result?: Record<string, unknown>; error?: string }
  | { id: string; status: 'pending'; poll: string };

/** What the hub knows of a node's agent from its replies (GET /api/nodes/:node/control). */
export interface AgentControlState {
  node: string;
  paused: boolean | null;
  interval_ms: number | null;
  watches: string[];
  updated_ms: number | null;
}

/** GET /api/processes?window=5m[&node=NAME or IP] */
export interface ProcessAverage {
  node: string;
  name: string;
  cpu_pct: number;
  rss_bytes: number;
  max_rss_bytes: number;
  /** Samples in which the process was in a top list (CPU or memory). */
  samples: number;
  pids: number;
  last_ms: number;
}

export interface ProcessesResponse {
  window_ms: number;
  from_ms: number;
  to_ms: number;
  processes: ProcessAverage[];
}

/** GET /api/processes/:node/:name/history?from=&to= */
export interface ProcessHistoryPoint {
  ts_ms: number;
  pid: number;
  cpu_pct: number;
  rss_bytes: number;
}
