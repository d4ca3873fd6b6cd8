-- Sessions (issue 3): one row per watch of a process on a node, started from the hub, or published
-- by `remonitor record --broker`, or the synthetic demo.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  target TEXT NOT NULL,                       -- name:nginx | pid:42 | cmdline:app.js
  interval_ms INTEGER NOT NULL,
  source TEXT NOT NULL,                       -- hub | agent | record | demo
  state TEXT NOT NULL,                        -- running | stopped | ended | failed
  started_ms INTEGER NOT NULL,
  stopped_ms INTEGER,
  last_sample_ms INTEGER,
  error TEXT                                  -- why a session failed (the agent's reply)
);
CREATE INDEX sessions_by_node ON sessions (node, state);

-- One row per watch sample: the sums over the session's live processes, and the rows themselves
-- (pid, name, rss, exited) as compact JSON for the page's process list and exit notes.
CREATE TABLE session_samples (
  session_id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  rss_bytes INTEGER NOT NULL,
  rss_anon_bytes INTEGER,
  rss_file_bytes INTEGER,
  swap_bytes INTEGER,
  vsize_bytes INTEGER,
  cpu_pct REAL,
  procs INTEGER NOT NULL,
  detail TEXT,
  PRIMARY KEY (session_id, ts_ms, seq)
) WITHOUT ROWID;

-- The fleet-wide per-process history: the processes of each sample's top lists (top 5 by CPU and
-- top 5 by memory, so up to 10 a sample), one row each. Only what the agents already send.
CREATE TABLE process_samples (
  node TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  name TEXT NOT NULL,
  cpu_pct REAL NOT NULL,
  rss_bytes INTEGER NOT NULL,
  PRIMARY KEY (node, ts_ms, pid)
) WITHOUT ROWID;
CREATE INDEX process_samples_by_time ON process_samples (ts_ms);
CREATE INDEX process_samples_by_name ON process_samples (node, name, ts_ms);
