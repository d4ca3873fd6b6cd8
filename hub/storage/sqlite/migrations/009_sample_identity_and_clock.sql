-- A sample is identified by (node, boot, seq), never by its time (PROTOCOL.md): the hub may store
-- a sample at a corrected time (hub/ingest/sample-time.ts), and a node whose clock stepped may send one
-- again with another. Per boot, the seqs stored (hub/storage/stored-seqs.ts): every seq below next_seq,
-- and the ranges above it as JSON [[from, to], …]. One small row per boot, written with each batch.
CREATE TABLE sample_seqs (
  node_id INTEGER NOT NULL,
  boot TEXT NOT NULL,
  next_seq INTEGER NOT NULL,
  above TEXT NOT NULL,
  PRIMARY KEY (node_id, boot)
) WITHOUT ROWID;

-- Copies of one sample stored before under different times: the first stored (arrival order) stays.
DELETE FROM samples WHERE rowid IN (
  SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY node_id, boot, seq ORDER BY rowid) AS copy FROM samples)
  WHERE copy > 1);

-- The seqs already stored, as runs of consecutive seqs (seq − its rank is constant along a run).
INSERT INTO sample_seqs (node_id, boot, next_seq, above)
SELECT node_id, boot, 0, json_group_array(json_array(first_seq, last_seq)) FROM (
  SELECT node_id, boot, min(seq) AS first_seq, max(seq) AS last_seq FROM (
    SELECT node_id, boot, seq, seq - row_number() OVER (PARTITION BY node_id, boot ORDER BY seq) AS run FROM samples)
  GROUP BY node_id, boot, run)
GROUP BY node_id, boot;

-- The node's clock minus the hub's at its newest live sample, ms.
ALTER TABLE nodes ADD COLUMN clock_skew_ms INTEGER;

-- A sample from a clock in the future used to pin last_seen_ms there (and the newest sample with
-- it): one past the hub's clock now is forgotten, so the next sample sets both again.
UPDATE nodes SET last_seen_ms = NULL
  WHERE last_seen_ms > CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 120000;
