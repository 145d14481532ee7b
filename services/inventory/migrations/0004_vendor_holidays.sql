-- A vendor on holiday sells nothing until the day after this one (inclusive, as the vendors
-- service publishes it); NULL: not on holiday. DATE is stored as `YYYY-MM-DD` text on SQLite.
ALTER TABLE vendors ADD COLUMN holiday_until DATE;
