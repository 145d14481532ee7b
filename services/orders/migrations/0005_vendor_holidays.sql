-- A vendor on holiday takes no orders until the day after this one (`YYYY-MM-DD`, inclusive,
-- as the vendors service publishes it); NULL: not on holiday.
ALTER TABLE vendors ADD COLUMN holiday_until TEXT;
