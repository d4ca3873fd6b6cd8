-- A removed node keeps its row, marked retired: it leaves the fleet list, and the retained status
-- or birth record, or a late sample, that reaches the hub afterwards cannot bring it back
-- (hub/storage/sqlite/sqlite-store.ts, removeNode). Its data stays unless it was purged.
ALTER TABLE nodes ADD COLUMN retired_ms INTEGER;
