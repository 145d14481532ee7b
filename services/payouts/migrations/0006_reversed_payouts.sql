-- When a paid payout's transfer was reversed by the provider (ADR 0044). Such a payout is
-- failed, and its money is the vendor's again, but the vendor orders it covered stay covered:
-- their commission was invoiced with it, and the next payout must not invoice it again.
ALTER TABLE payouts ADD COLUMN reversed_at TIMESTAMPTZ;
