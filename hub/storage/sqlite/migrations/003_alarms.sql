-- Alarms (issue 4). Rules live in the rules file (alarm-rules.json in the data directory), not here.
-- IF NOT EXISTS: hub/alarms/alarm-store.ts also runs this file when it opens, so the tables exist
-- even in a database whose user_version already passed 3 before this migration existed.

-- Every state change of every alarm: what the history and the notifications are made of.
CREATE TABLE IF NOT EXISTS alarm_transitions (
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  node TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',          -- the filesystem of a per-mount rule, else ''
  metric TEXT NOT NULL,
  from_state TEXT NOT NULL,                  -- ok | amber | red | offline
  to_state TEXT NOT NULL,
  value REAL,                                -- mean over the rule's window, units of the metric
  threshold REAL,
  tt_ms INTEGER                              -- predicted ms until the threshold; 0 when over
);
CREATE INDEX IF NOT EXISTS alarm_transitions_ts ON alarm_transitions (ts_ms);
CREATE INDEX IF NOT EXISTS alarm_transitions_alarm ON alarm_transitions (node, rule_id, subject, ts_ms);

-- Acknowledgements: an alarm acknowledged while in a state stays acknowledged until it changes state.
CREATE TABLE IF NOT EXISTS alarm_acks (
  node TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,                       -- the state that was acknowledged
  ts_ms INTEGER NOT NULL,
  by TEXT,
  PRIMARY KEY (node, rule_id, subject)
);

-- Silences: no notifications for matching alarms until until_ms. node/rule_id NULL match any.
CREATE TABLE IF NOT EXISTS alarm_silences (
  id INTEGER PRIMARY KEY,
  node TEXT,
  rule_id TEXT,
  subject TEXT,
  from_ms INTEGER NOT NULL,
  until_ms INTEGER NOT NULL,
  reason TEXT
);

-- Notifications to deliver: kept until delivered, retried with backoff (a failed one stays here).
CREATE TABLE IF NOT EXISTS alarm_deliveries (
  id INTEGER PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,                        -- webhook | ntfy
  url TEXT NOT NULL,
  body TEXT NOT NULL,                        -- JSON of the transition (ntfy: the rendered message)
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT,
  delivered_ms INTEGER
);
CREATE INDEX IF NOT EXISTS alarm_deliveries_due ON alarm_deliveries (delivered_ms, next_attempt_ms);
