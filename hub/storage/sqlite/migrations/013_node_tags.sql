-- The tags given to a node on the hub (at enrolment or in the dashboard), a JSON list of words, or
-- NULL when none were; the node's own tags come in its birth record (protocol/info.ts, combineTags).
ALTER TABLE nodes ADD COLUMN hub_tags TEXT;
