-- Answers with their signed receipts (agent/receipt), kept across restarts
-- for receipt.get and receipts.list. item is the answer (events.Result, no
-- photo), encrypted like every personal field.
CREATE TABLE results (
	id       INTEGER PRIMARY KEY,
	check_id TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	item     BLOB    NOT NULL
);
CREATE INDEX results_check ON results (check_id);
CREATE INDEX results_at ON results (at);
