ALTER TABLE payout_accounts ADD COLUMN account_holder TEXT;
ALTER TABLE payout_accounts ADD COLUMN iban TEXT;
ALTER TABLE payout_settings ADD COLUMN debtor_name TEXT;
ALTER TABLE payout_settings ADD COLUMN debtor_iban TEXT;
ALTER TABLE payout_settings ADD COLUMN debtor_bic TEXT;
