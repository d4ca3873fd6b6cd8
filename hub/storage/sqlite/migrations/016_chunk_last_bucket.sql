-- The start of the last bucket a rollup or labelled chunk holds (hub/storage/sqlite/rollup-chunks.ts,
-- hub/storage/sqlite/labelled-chunks.ts): a window's finished hours are compacted while it is still
-- being written, and a rollup run moves back into rows only the buckets from where it writes on;
-- this says without reading the blob whether a chunk holds any. NULL (chunks written before): the window's end.
ALTER TABLE rollup_chunks ADD COLUMN last_ms INTEGER;
ALTER TABLE labelled_chunks ADD COLUMN last_ms INTEGER;
