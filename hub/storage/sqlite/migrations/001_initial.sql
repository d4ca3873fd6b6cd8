-- Nodes: one row each, with what the fleet page needs without touching the samples.
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'unknown',     -- online | offline | unknown
  status_ms INTEGER,                          -- when the status was received
  last_seen_ms INTEGER,                       -- sample time of the newest sample
  info BLOB,                                  -- birth record, CBOR as received
  latest BLOB,                                -- newest sample, CBOR as received
  latest_processes BLOB                       -- newest sample that carried the process list, CBOR
);

-- One row per sample: typed columns for the fixed metrics (fast ranges, ~10 bytes a value),
-- the variable parts (cores, filesystems, interfaces, top processes) as one CBOR blob beside them.
-- The primary key serves "node X from t1 to t2"; (node, ts, seq) also makes a re-sent sample a duplicate.
CREATE TABLE samples (
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
  detail BLOB,
  PRIMARY KEY (node_id, ts_ms, seq)
) WITHOUT ROWID;
