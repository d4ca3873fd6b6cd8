-- Labelled series (a core, a mount, an interface, a container, a node's own metric) by minute.
-- Each series (node, name, label set) is named once in labelled_series; its minute buckets hold
-- count and sum (charts draw means). Their raw values stay in each sample's detail blob; the rollup
-- run (hub/storage/sqlite/labelled-rollups.ts) reads the minutes it stored since its last run back from there, so
-- these rows are rebuilt, never lost, after a crash. Longer steps are read by grouping buckets.
CREATE TABLE labelled_series (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,                       -- canonical JSON, label names in order: {"cpu":"0"}
  UNIQUE (node_id, name, labels)
);
CREATE TABLE labelled_rollups (
  series_id INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum REAL NOT NULL,
  PRIMARY KEY (series_id, bucket_ms)
) WITHOUT ROWID;
