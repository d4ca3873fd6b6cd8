// Schema step 10 (hub/storage/postgres/pg-schema.ts): the alarm and session state, in PostgreSQL
// so that every hub of a group reads the same and a new coordinator goes on where the last one
// stopped. The same tables as SQLite's migrations 002, 003, 007 and 011, in one step: a silence's
// scope (node pattern, tag, author) is in its own row here, as it could not be in SQLite.
export const alarmAndSessionStateV10 = `
-- Every state change of every alarm (hub/storage/postgres/pg-alarm-store.ts).
CREATE TABLE IF NOT EXISTS alarm_transitions (
  id bigserial PRIMARY KEY,
  ts_ms bigint NOT NULL,
  node text NOT NULL,
  rule_id text NOT NULL,
  subject text NOT NULL DEFAULT '',           -- a filesystem, a label set (labelsSubject), else ''
  metric text NOT NULL,
  from_state text NOT NULL,                   -- ok | amber | red | offline
  to_state text NOT NULL,
  value float8,
  threshold float8,
  tt_ms bigint
);
CREATE INDEX IF NOT EXISTS alarm_transitions_ts ON alarm_transitions (ts_ms);
CREATE INDEX IF NOT EXISTS alarm_transitions_alarm ON alarm_transitions (node, rule_id, subject, id);

-- An acknowledgement holds for the state it was given in.
CREATE TABLE IF NOT EXISTS alarm_acks (
  node text NOT NULL,
  rule_id text NOT NULL,
  subject text NOT NULL DEFAULT '',
  state text NOT NULL,
  ts_ms bigint NOT NULL,
  by text,
  PRIMARY KEY (node, rule_id, subject)
);

-- No notifications for matching alarms until until_ms; NULL matches any.
CREATE TABLE IF NOT EXISTS alarm_silences (
  id bigserial PRIMARY KEY,
  node text,
  rule_id text,
  subject text,
  from_ms bigint NOT NULL,
  until_ms bigint NOT NULL,
  reason text,
  node_pattern text,                          -- node name glob; node is then NULL
  tag text,
  created_by text
);

-- Notifications to deliver, kept until delivered and retried with backoff, by whichever hub coordinates.
CREATE TABLE IF NOT EXISTS alarm_deliveries (
  id bigserial PRIMARY KEY,
  created_ms bigint NOT NULL,
  kind text NOT NULL,
  url text NOT NULL,
  body text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_ms bigint NOT NULL,
  last_error text,
  delivered_ms bigint
);
CREATE INDEX IF NOT EXISTS alarm_deliveries_due ON alarm_deliveries (next_attempt_ms) WHERE delivered_ms IS NULL;

-- Process-watch sessions and their samples (hub/storage/postgres/pg-session-store.ts).
CREATE TABLE IF NOT EXISTS sessions (
  id text PRIMARY KEY,
  node text NOT NULL,
  target text NOT NULL,                       -- name:nginx | pid:42 | cmdline:app.js
  interval_ms bigint NOT NULL,
  source text NOT NULL,                       -- hub | agent | record | demo
  state text NOT NULL,                        -- running | stopped | ended | failed
  started_ms bigint NOT NULL,
  stopped_ms bigint,
  last_sample_ms bigint,
  error text
);
CREATE INDEX IF NOT EXISTS sessions_by_node ON sessions (node, state);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (started_ms);
CREATE TABLE IF NOT EXISTS session_samples (
  session_id text NOT NULL,
  ts_ms bigint NOT NULL,
  seq bigint NOT NULL,
  rss_bytes bigint NOT NULL,
  rss_anon_bytes bigint,
  rss_file_bytes bigint,
  swap_bytes bigint,
  vsize_bytes bigint,
  cpu_pct real,
  procs integer NOT NULL,
  detail text,                                -- JSON [[pid, name, rss_bytes, exited], ...]
  PRIMARY KEY (session_id, ts_ms, seq)
);

-- Per-process history: each sample's top processes, [[pid, name, cpu_pct, rss_bytes], ...].
CREATE TABLE IF NOT EXISTS process_lists (
  node text NOT NULL,
  ts_ms bigint NOT NULL,
  procs jsonb NOT NULL,
  PRIMARY KEY (node, ts_ms)
);
CREATE INDEX IF NOT EXISTS process_lists_by_time ON process_lists (ts_ms);
`;
