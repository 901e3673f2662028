-- tiepdon cache, schema version 2.
-- The ON DELETE CASCADE from answers to answer_keys made each purge batch
-- 20 times slower (a trigger program per deleted answer). Keys now carry
-- their own checked_at (always their answer's) and are purged by it; a key
-- whose answer is gone matches nothing, because lookups join answers.
CREATE TABLE answer_keys_v2 (
	hash       BLOB    PRIMARY KEY,
	answer_id  INTEGER NOT NULL,
	checked_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO answer_keys_v2 (hash, answer_id, checked_at) SELECT hash, answer_id, checked_at FROM answer_keys;
DROP TABLE answer_keys;
ALTER TABLE answer_keys_v2 RENAME TO answer_keys;
CREATE INDEX answer_keys_checked_at ON answer_keys (checked_at);
