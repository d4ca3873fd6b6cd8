-- The per-process history as one row per sample with process lists, its processes (each of the top
-- lists once) in a JSONB array of [pid, name, cpu_pct, rss_bytes]. One row per process in two
-- B-trees (7.5 rows a process sample in the simulated fleet) was 40 % of the writer's time per
-- sample. Rows are appended in arrival order (a rowid table): clustered by node, every commit
-- split and rewrote a page in each node's part of the table. Together: a quarter of that time,
-- half the bytes.
CREATE TABLE process_lists (
  node TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  procs BLOB NOT NULL
);
-- A node's history over a range, and a sample's list stored once.
CREATE UNIQUE INDEX process_lists_by_node ON process_lists (node, ts_ms);
-- The fleet-wide averages over a window, and the purge past retention.
CREATE INDEX process_lists_by_time ON process_lists (ts_ms);

INSERT INTO process_lists (node, ts_ms, procs)
  SELECT node, ts_ms, jsonb_group_array(jsonb_array(pid, name, cpu_pct, rss_bytes))
  FROM process_samples GROUP BY node, ts_ms;
DROP TABLE process_samples;
