-- A shop's expiry sweep reads its unpaid orders by deadline (`due_to_expire`,
-- `next_deadline`): an equality on (tenant_id, status) and a range on expires_at, in order,
-- so it stops after its batch instead of reading every order of the shop.
CREATE INDEX orders_unpaid_deadline ON orders (tenant_id, status, expires_at);
