-- Samples in arrival order (a rowid table), found through a unique index led by the sample's
-- minute. Clustered by (node, ts_ms), a batch from 3,000 nodes rewrote 3,000 pages, one per
-- sample: at 10,000 nodes at 1 Hz the writer spent ~50 µs a sample in commits and checkpoints.
-- Here a batch appends to the table's end and touches the index only in its current minute (about
-- 0.4 pages a sample, ~9 µs). The index is as unique as the old key (the minute is a function of
-- ts_ms), so a re-sent sample is still a duplicate. A node's range is one index seek per minute
-- (hub/storage/sqlite/sample-minutes.ts); ranges long enough to need thousands are served by the rollups.
CREATE TABLE samples_by_arrival (
  node_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  boot TEXT NOT NULL,
  cpu_pct REAL,
  mem_pct REAL,
  mem_used_bytes INTEGER,
  swap_pct REAL,
  swap_used_bytes INTEGER,
  disk_pct REAL,                              -- the fullest real filesystem
  disk_read_bps INTEGER,
  disk_write_bps INTEGER,
  net_rx_bps INTEGER,                         -- all interfaces
  net_tx_bps INTEGER,
  temp_c REAL,
  load_1 REAL,
  load_5 REAL,
  load_15 REAL,
  procs_total INTEGER,
  uptime_s INTEGER,
  detail BLOB
);
-- The rows already stored are copied node by node: a node's past stays together on disk.
INSERT INTO samples_by_arrival SELECT node_id, ts_ms, seq, boot, cpu_pct, mem_pct, mem_used_bytes, swap_pct,
  swap_used_bytes, disk_pct, disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, temp_c, load_1, load_5,
  load_15, procs_total, uptime_s, detail FROM samples ORDER BY node_id, ts_ms, seq;
DROP TABLE samples;
ALTER TABLE samples_by_arrival RENAME TO samples;
CREATE UNIQUE INDEX samples_by_minute ON samples (ts_ms / 60000, node_id, ts_ms, seq);
