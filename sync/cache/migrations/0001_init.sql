-- tiepdon cache, schema version 1.
-- Personal data is stored only encrypted (AES-GCM, columns of type BLOB
-- named for what they hold) and found by keyed hashes (HMAC-SHA256).
-- Times are Unix milliseconds, UTC.

-- One gateway answer (a patient.Eligibility as JSON, encrypted).
CREATE TABLE answers (
	id         INTEGER PRIMARY KEY,
	checked_at INTEGER NOT NULL,
	code       TEXT    NOT NULL,
	verdict    TEXT    NOT NULL,
	data       BLOB    NOT NULL
);
CREATE INDEX answers_checked_at ON answers (checked_at);

-- The newest answer for each identifier (card number, social-insurance
-- number, citizen ID), by keyed hash.
CREATE TABLE answer_keys (
	hash       BLOB    PRIMARY KEY,
	answer_id  INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
	checked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX answer_keys_answer ON answer_keys (answer_id);

-- The audit log: every check shown at the counter.
CREATE TABLE audit (
	id           INTEGER PRIMARY KEY,
	at           INTEGER NOT NULL,
	check_id     TEXT    NOT NULL,
	medium       TEXT    NOT NULL,
	source       TEXT    NOT NULL,
	code         TEXT    NOT NULL,
	verdict      TEXT    NOT NULL,
	latency_ms   INTEGER NOT NULL,
	staff_hash   BLOB,
	staff        BLOB,
	citizen_hash BLOB,
	citizen      BLOB,
	card_hash    BLOB,
	card         BLOB
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_citizen ON audit (citizen_hash);
CREATE INDEX audit_check ON audit (check_id);

-- Checks waiting for the gateway (sync/outbox).
CREATE TABLE outbox (
	id          INTEGER PRIMARY KEY,
	check_id    TEXT    NOT NULL UNIQUE,
	enqueued_at INTEGER NOT NULL,
	next_at     INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	item        BLOB    NOT NULL
);
CREATE INDEX outbox_next ON outbox (next_at);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
