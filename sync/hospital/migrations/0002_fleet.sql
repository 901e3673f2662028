-- Version 2: fleet status and fleet settings. Additive only, so a desk of
-- version 1 keeps replicating while version 2 rolls out.
CREATE TABLE desk_status (
    desk_id     text PRIMARY KEY REFERENCES desks,
    reported_at timestamptz NOT NULL DEFAULT now(),
    status      jsonb NOT NULL
);
CREATE TABLE fleet_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    locked     boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE fleet_secrets (
    name       text PRIMARY KEY,
    key_id     text NOT NULL,
    sealed     bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
