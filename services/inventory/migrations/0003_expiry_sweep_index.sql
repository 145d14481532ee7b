-- A shop's expiry sweep reads its active reservations by deadline (`due_to_expire`,
-- `next_deadline`): an equality on (tenant_id, status) and a range on expires_at, in order,
-- so it stops after its batch instead of reading every reservation of the shop.
CREATE INDEX reservations_active_deadline ON reservations (tenant_id, status, expires_at);
