-- The time of the last sample a raw chunk holds (hub/storage/sqlite/chunk-store.ts): chunks span up to a node's
-- day now (a node sampled once a minute: two a day, not 24 of some 3 kB), so a read of an hour finds
-- the chunks that reach into it by their span, not by a window that starts before it, and retention
-- drops a chunk once its last sample is past it. NULL (chunks written before): their hour's end.
ALTER TABLE sample_chunks ADD COLUMN last_ms INTEGER;
-- A node's chunks by start, with their ends: a read skips those that end before it without their rows' blobs.
CREATE INDEX sample_chunks_by_node_span ON sample_chunks (node_id, start_ms, last_ms);
