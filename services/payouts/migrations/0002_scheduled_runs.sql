ALTER TABLE payout_runs ADD COLUMN scheduled_for DATE;
