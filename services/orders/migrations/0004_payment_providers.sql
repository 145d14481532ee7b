-- The payment providers a shop accepts, as a JSON list; NULL: every provider the platform
-- offers.
ALTER TABLE order_settings ADD COLUMN payment_providers TEXT;
