-- Application acknowledgements (issue 5). Per node and boot id (the identity of an agent's spool):
-- every seq below next_seq is stored or known lost. Written in the same transaction as the samples
-- it covers, so an ack, sent only after that commit, never promises more than the database holds.
CREATE TABLE ack_watermarks (
  node TEXT NOT NULL,
  boot TEXT NOT NULL,
  next_seq INTEGER NOT NULL,
  dropped INTEGER NOT NULL DEFAULT 0,        -- samples the agent's spool dropped (its own count)
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (node, boot)
) WITHOUT ROWID;

-- Samples that will never arrive: seqs the agent dropped from a full spool before the hub had them.
CREATE TABLE sample_gaps (
  node TEXT NOT NULL,
  boot TEXT NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,                   -- inclusive
  reason TEXT NOT NULL,                      -- 'spool-dropped'
  recorded_ms INTEGER NOT NULL,
  PRIMARY KEY (node, boot, from_seq)
) WITHOUT ROWID;
