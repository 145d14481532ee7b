-- An order's vendor orders, payments, refunds and returns are read in id order. Indexes that
-- end in `id` serve that ORDER BY, so the plan stays right before the planner has
-- statistics; without them PostgreSQL may walk the primary key (tenant_id, id), which reads
-- every row of the shop.
DROP INDEX vendor_orders_order;
CREATE INDEX vendor_orders_order ON vendor_orders (tenant_id, order_id, id);
DROP INDEX order_payments_order;
CREATE INDEX order_payments_order ON order_payments (tenant_id, order_id, id);
DROP INDEX returns_order;
CREATE INDEX returns_order ON returns (tenant_id, order_id, id);
CREATE INDEX refunds_order ON refunds (tenant_id, order_id, id);
