-- Rollups: min / max / sum / count per metric and bucket, so that long ranges are read from a few
-- thousand rows. Kept up to date by a job that aggregates only what was stored since its last run.
-- tier is the bucket width in seconds: 60, 900, 3600. mean = <m>_sum / <m>_n.
CREATE TABLE rollups (
  tier INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  n INTEGER NOT NULL,
  cpu_pct_min REAL, cpu_pct_max REAL, cpu_pct_sum REAL, cpu_pct_n INTEGER NOT NULL DEFAULT 0,
  mem_pct_min REAL, mem_pct_max REAL, mem_pct_sum REAL, mem_pct_n INTEGER NOT NULL DEFAULT 0,
  mem_used_bytes_min REAL, mem_used_bytes_max REAL, mem_used_bytes_sum REAL, mem_used_bytes_n INTEGER NOT NULL DEFAULT 0,
  swap_pct_min REAL, swap_pct_max REAL, swap_pct_sum REAL, swap_pct_n INTEGER NOT NULL DEFAULT 0,
  swap_used_bytes_min REAL, swap_used_bytes_max REAL, swap_used_bytes_sum REAL, swap_used_bytes_n INTEGER NOT NULL DEFAULT 0,
  disk_pct_min REAL, disk_pct_max REAL, disk_pct_sum REAL, disk_pct_n INTEGER NOT NULL DEFAULT 0,
  disk_read_bps_min REAL, disk_read_bps_max REAL, disk_read_bps_sum REAL, disk_read_bps_n INTEGER NOT NULL DEFAULT 0,
  disk_write_bps_min REAL, disk_write_bps_max REAL, disk_write_bps_sum REAL, disk_write_bps_n INTEGER NOT NULL DEFAULT 0,
  net_rx_bps_min REAL, net_rx_bps_max REAL, net_rx_bps_sum REAL, net_rx_bps_n INTEGER NOT NULL DEFAULT 0,
  net_tx_bps_min REAL, net_tx_bps_max REAL, net_tx_bps_sum REAL, net_tx_bps_n INTEGER NOT NULL DEFAULT 0,
  temp_c_min REAL, temp_c_max REAL, temp_c_sum REAL, temp_c_n INTEGER NOT NULL DEFAULT 0,
  load_1_min REAL, load_1_max REAL, load_1_sum REAL, load_1_n INTEGER NOT NULL DEFAULT 0,
  load_5_min REAL, load_5_max REAL, load_5_sum REAL, load_5_n INTEGER NOT NULL DEFAULT 0,
  load_15_min REAL, load_15_max REAL, load_15_sum REAL, load_15_n INTEGER NOT NULL DEFAULT 0,
  procs_total_min REAL, procs_total_max REAL, procs_total_sum REAL, procs_total_n INTEGER NOT NULL DEFAULT 0,
  uptime_s_min REAL, uptime_s_max REAL, uptime_s_sum REAL, uptime_s_n INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tier, node_id, bucket_ms)
) WITHOUT ROWID;

-- Each stored batch marks the oldest sample time it wrote; the job rebuilds the 1 min buckets from
-- there out of the raw samples, then 15 min and 1 h out of the 1 min tier. Kept here so that a crash
-- loses nothing: a run moves dirty_from_ms to deriving_from_ms and clears that only when done.
CREATE TABLE rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  dirty_from_ms INTEGER,
  deriving_from_ms INTEGER
);
INSERT INTO rollup_state (id) VALUES (1);
