-- The commission rules mirror keeps rules like every other mirror (mercato_events::Mirror):
-- each row knows when the event it reflects happened, so an older event changes nothing,
-- and a deleted rule stays as a tombstone, so a late `commission_rule.created` cannot bring
-- it back. Rows from before this migration count as older than any event.
ALTER TABLE commission_rules ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE commission_rules ADD COLUMN synced_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01T00:00:00Z';
