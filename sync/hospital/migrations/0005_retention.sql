-- Version 5: the store keeps personal data no longer than the hospital
-- decides (Decree 13/2023/ND-CP, art. 9: kept only as long as the purpose
-- needs). Answers (the shared cache) for 30 days, as a desk's own cache;
-- audit lines and receipts for a year, for claims disputes. The owner
-- changes them with an UPDATE (docs/hospital.md).
CREATE TABLE store_retention (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    answers interval NOT NULL DEFAULT '30 days' CHECK (answers >= '1 day'),
    records interval NOT NULL DEFAULT '365 days' CHECK (records >= '1 day')
);
INSERT INTO store_retention DEFAULT VALUES;
CREATE INDEX audit_at ON audit (at);

-- tiepdon_purge deletes up to batch expired rows of each table and returns
-- how many it deleted; desks call it every hour until it returns 0. It runs
-- with its owner's rights (desks may not DELETE), so a desk can delete only
-- what the retention says has expired; one desk at a time does the work.
CREATE FUNCTION tiepdon_purge(batch integer DEFAULT 5000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r store_retention;
    n bigint := 0;
    m bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(1953064305) THEN -- the migration lock's number + 1
        RETURN 0;
    END IF;
    SELECT * INTO r FROM store_retention;
    DELETE FROM verdict_lookups WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM verdict_lookups WHERE checked_at < now() - r.answers LIMIT batch));
    GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
    DELETE FROM verdicts WHERE (desk_id, seq) IN (
        SELECT desk_id, seq FROM verdicts WHERE checked_at < now() - r.answers ORDER BY checked_at LIMIT batch);
    GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
    DELETE FROM receipts WHERE (desk_id, seq) IN (
        SELECT a.desk_id, a.seq FROM audit a JOIN receipts USING (desk_id, seq)
        WHERE a.at < now() - r.records ORDER BY a.at LIMIT batch);
    GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
    DELETE FROM audit WHERE (desk_id, seq) IN (
        SELECT desk_id, seq FROM audit a WHERE a.at < now() - r.records
        AND NOT EXISTS (SELECT 1 FROM receipts x WHERE x.desk_id = a.desk_id AND x.seq = a.seq)
        ORDER BY a.at LIMIT batch);
    GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
    RETURN n;
END $$;
REVOKE EXECUTE ON FUNCTION tiepdon_purge(integer) FROM PUBLIC;
