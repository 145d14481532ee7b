ALTER TABLE vendors ADD COLUMN shipping_flat_rate_amount BIGINT CHECK (shipping_flat_rate_amount >= 0);
ALTER TABLE vendors ADD COLUMN shipping_flat_rate_currency TEXT;
ALTER TABLE vendors ADD COLUMN free_shipping_over_amount BIGINT CHECK (free_shipping_over_amount >= 0);
ALTER TABLE vendors ADD COLUMN free_shipping_over_currency TEXT;
