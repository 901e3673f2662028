-- Version 3: the verdict and source of each replicated answer, in clear
-- (they name no one), so the shared cache serves only live answers about the
-- card, as a desk's own cache does. Additive: a desk of version 2 inserts
-- rows without them, and they are then never served to another desk.
ALTER TABLE verdicts ADD COLUMN verdict text;
ALTER TABLE verdicts ADD COLUMN source text;
CREATE INDEX verdicts_checked_at ON verdicts (checked_at);
