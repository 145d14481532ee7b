-- A vendor on holiday keeps its listings on show, with a notice, until the day after this
-- one (inclusive, as the vendors service publishes it); NULL: not on holiday. DATE is stored
-- as `YYYY-MM-DD` text on SQLite.
ALTER TABLE vendors ADD COLUMN holiday_until DATE;
