-- The retention sweep deletes checkout keys and provider event ids by age across shops
-- (see `retention`); without these it would scan the whole table on every batch.
CREATE INDEX checkout_caller_keys_age ON checkout_caller_keys (created_at);
CREATE INDEX order_payment_events_age ON order_payment_events (received_at);
