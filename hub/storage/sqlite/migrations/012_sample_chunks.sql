-- Raw samples past their first hours, compressed (hub/storage/chunk-codec.ts, hub/storage/sqlite/chunk-store.ts): one row
-- per node and hour, the hour's samples (times, seqs, boots, every metric, the detail blobs) as one
-- blob of about a byte a value, against some 6 in `samples`. Rows move here from `samples` in the
-- transaction that deletes them; samples that arrive late for an hour already here are merged into
-- its chunk at the next compaction. start_ms: the hour's first ms; rows: samples in the blob.
CREATE TABLE sample_chunks (
  node_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (node_id, start_ms)
);
-- Retention drops whole hours, oldest first, of every node.
CREATE INDEX sample_chunks_by_start ON sample_chunks (start_ms);
