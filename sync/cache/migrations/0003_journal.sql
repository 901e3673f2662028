-- Scans journaled before their check starts (sync/outbox): a row with
-- journal = 1 is an accepted scan whose check has not finished; after a
-- crash it becomes a queued check (journal = 0).
ALTER TABLE outbox ADD COLUMN journal INTEGER NOT NULL DEFAULT 0;
