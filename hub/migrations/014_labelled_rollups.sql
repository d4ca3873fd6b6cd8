-- Labelled series (a core, a mount, an interface, a container, a node's own metric) by minute:
-- min / max / sum / count per series and 1 min bucket. Their raw values stay in each sample's
-- detail blob; the rollup run (hub/labelled-rollups.ts) reads the minutes it stored since its last
-- run back from there, so these rows are rebuilt, never lost, after a crash. Longer steps are read
-- by grouping these buckets.
CREATE TABLE labelled_rollups (
  node_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,                       -- canonical JSON, label names in order: {"cpu":"0"}
  bucket_ms INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  PRIMARY KEY (node_id, name, bucket_ms, labels)
) WITHOUT ROWID;
