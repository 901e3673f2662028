-- Version 4: one row per keyed lookup of each answer the desks share (live
-- answers about the card), so "the newest answer for this person" is one
-- B-tree probe however many answers the store holds. Version 1's GIN index
-- on verdicts.lookup cannot give the newest first: with a month of answers
-- the planner walked verdicts_checked_at backwards through all of them
-- (hundreds of milliseconds, over a desk's lookup timeout).
--
-- A trigger fills it, so the answers of a desk of version 3 that is still
-- replicating during a rollout are found too. Additive: version 3 desks
-- never read it.
CREATE TABLE verdict_lookups (
    lookup     bytea NOT NULL,
    checked_at timestamptz NOT NULL,
    desk_id    text NOT NULL,
    seq        bigint NOT NULL,
    UNIQUE (lookup, checked_at, desk_id, seq)
);
CREATE INDEX verdict_lookups_checked_at ON verdict_lookups (checked_at);

CREATE FUNCTION verdict_lookups_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO verdict_lookups (lookup, checked_at, desk_id, seq)
    SELECT DISTINCT l, NEW.checked_at, NEW.desk_id, NEW.seq FROM unnest(NEW.lookup) AS l
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER verdicts_lookups AFTER INSERT ON verdicts FOR EACH ROW
    WHEN (NEW.source = 'live' AND NEW.verdict IN ('eligible', 'not-eligible', 'check-documents'))
    EXECUTE FUNCTION verdict_lookups_fill();

INSERT INTO verdict_lookups (lookup, checked_at, desk_id, seq)
SELECT DISTINCT l, v.checked_at, v.desk_id, v.seq FROM verdicts v, unnest(v.lookup) AS l
WHERE v.source = 'live' AND v.verdict IN ('eligible', 'not-eligible', 'check-documents')
ON CONFLICT DO NOTHING;

-- verdicts.lookup's GIN index served only the old query, and every answer
-- kept paid for it (GIN's pending list, cleaned up by whichever insert
-- crosses its limit). A desk of version 3 during a rollout still finds
-- answers without it, as its planner already walked verdicts_checked_at.
DROP INDEX verdicts_lookup;
