-- Silences by node name pattern or by tag, and who made each. A table beside alarm_silences (one
-- row per silence that has any of these, same id) rather than new columns: hub/alarms/alarm-store.ts
-- runs this file too whenever it opens a database, whatever its user_version, and CREATE TABLE IF
-- NOT EXISTS can run twice where ALTER TABLE ADD COLUMN cannot.
CREATE TABLE IF NOT EXISTS alarm_silence_scope (
  silence_id INTEGER PRIMARY KEY,            -- alarm_silences.id
  node_pattern TEXT,                         -- node name glob (`pi-*`); alarm_silences.node is then NULL
  tag TEXT,                                  -- nodes carrying this tag
  created_by TEXT                            -- the signed-in user who made it; NULL on a hub without logins
);
