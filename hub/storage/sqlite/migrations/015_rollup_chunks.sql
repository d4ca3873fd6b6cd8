-- Rollup buckets past their first hours, compressed (hub/storage/sqlite/rollup-chunks.ts, hub/storage/chunk-codec.ts): one
-- row per node, tier and window (6 h of the 1 min tier, a day of 15 min, a week of 1 h) holding its
-- buckets as one blob, against a row of some 300 B a bucket in `rollups`. A window is in one of the
-- two, never both: a rollup run that writes into a compacted window moves it back into rows first.
-- buckets: how many the blob holds.
CREATE TABLE rollup_chunks (
  tier INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  buckets INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (tier, node_id, start_ms)
);
-- The same for labelled series' minute buckets (hub/storage/sqlite/labelled-rollups.ts): a series' 6 h a row.
CREATE TABLE labelled_chunks (
  series_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  buckets INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (series_id, start_ms)
);
