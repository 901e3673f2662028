-- Version 1: desks and what they replicate (checks, audit entries, receipts).
-- Personal fields are sealed (AES-GCM) with the hospital key; lookups are
-- keyed hashes (HMAC-SHA-256), so the database alone names no one.
CREATE TABLE desks (
    desk_id    text PRIMARY KEY,
    name       text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE verdicts (
    desk_id    text NOT NULL REFERENCES desks,
    seq        bigint NOT NULL,
    lookup     bytea[] NOT NULL,
    key_id     text NOT NULL,
    checked_at timestamptz NOT NULL,
    sealed     bytea NOT NULL,
    PRIMARY KEY (desk_id, seq)
);
CREATE INDEX verdicts_lookup ON verdicts USING gin (lookup);
CREATE TABLE audit (
    desk_id    text NOT NULL REFERENCES desks,
    seq        bigint NOT NULL,
    at         timestamptz NOT NULL,
    check_id   text NOT NULL,
    code       text NOT NULL,
    verdict    text NOT NULL,
    latency_ms integer NOT NULL,
    key_id     text NOT NULL,
    sealed     bytea NOT NULL,
    PRIMARY KEY (desk_id, seq)
);
CREATE TABLE receipts (
    desk_id  text NOT NULL REFERENCES desks,
    seq      bigint NOT NULL,
    check_id text NOT NULL,
    kind     text NOT NULL,
    key_id   text NOT NULL,
    sealed   bytea NOT NULL,
    PRIMARY KEY (desk_id, seq)
);
