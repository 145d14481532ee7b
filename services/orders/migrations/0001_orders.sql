CREATE TABLE order_settings (
    tenant_id UUID NOT NULL,
    prices_include_tax BOOLEAN NOT NULL,
    order_ttl_secs BIGINT NOT NULL CHECK (order_ttl_secs BETWEEN 1 AND 3300),
    cart_idle_secs BIGINT NOT NULL CHECK (cart_idle_secs BETWEEN 60 AND 7776000),
    cancel_window_secs BIGINT NOT NULL CHECK (cancel_window_secs BETWEEN 0 AND 2592000),
    vendor_refunds BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id)
);
CREATE TABLE tax_rates (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    country TEXT NOT NULL,
    category TEXT NOT NULL,
    rate TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX tax_rates_key ON tax_rates (tenant_id, country, category);
CREATE TABLE catalog_variants (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    product_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    title TEXT NOT NULL,
    sku TEXT NOT NULL,
    price BIGINT NOT NULL,
    currency TEXT NOT NULL,
    categories TEXT NOT NULL,
    tax_category TEXT NOT NULL,
    visible BOOLEAN NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX catalog_variants_product ON catalog_variants (tenant_id, product_id);
CREATE TABLE vendors (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_user_id UUID,
    shipping_flat_rate BIGINT,
    shipping_currency TEXT,
    free_shipping_over BIGINT,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE commission_rules (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE stock (
    tenant_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    available BIGINT NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, variant_id)
);
CREATE TABLE carts (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID,
    status TEXT NOT NULL CHECK (status IN ('open', 'ordered', 'merged', 'expired')),
    currency TEXT,
    country TEXT,
    coupon_code TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX carts_customer ON carts (tenant_id, customer_id, status);
CREATE TABLE cart_lines (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    cart_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    seen_price BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, cart_id) REFERENCES carts (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX cart_lines_variant ON cart_lines (tenant_id, cart_id, variant_id);
CREATE TABLE coupons (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    code TEXT NOT NULL,
    definition TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    used_count BIGINT NOT NULL CHECK (used_count >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX coupons_code ON coupons (tenant_id, code);
CREATE TABLE orders (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    cart_id UUID NOT NULL,
    customer_id UUID,
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    shipping BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    prices_include_tax BOOLEAN NOT NULL,
    shipping_address TEXT NOT NULL,
    tax_breakdown TEXT NOT NULL,
    coupon_id UUID,
    coupon_code TEXT,
    reservation_id TEXT,
    token_hash TEXT NOT NULL,
    payment_failure TEXT,
    paid_by UUID,
    expires_at TIMESTAMPTZ NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL,
    paid_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, id);
CREATE TABLE coupon_redemptions (
    tenant_id UUID NOT NULL,
    coupon_id UUID NOT NULL,
    order_id UUID NOT NULL,
    customer_key TEXT NOT NULL,
    redeemed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, coupon_id, order_id),
    FOREIGN KEY (tenant_id, coupon_id) REFERENCES coupons (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE INDEX coupon_redemptions_customer ON coupon_redemptions (tenant_id, coupon_id, customer_key);
CREATE TABLE vendor_orders (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    status TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    discount_funded_by TEXT NOT NULL,
    shipping BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    earnings BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    carrier TEXT,
    tracking_number TEXT,
    shipped_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE INDEX vendor_orders_order ON vendor_orders (tenant_id, order_id);
CREATE INDEX vendor_orders_vendor ON vendor_orders (tenant_id, vendor_id, id);
CREATE TABLE order_lines (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    position INTEGER NOT NULL,
    variant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    title TEXT NOT NULL,
    sku TEXT NOT NULL,
    unit_price BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    subtotal BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    tax_rate TEXT NOT NULL,
    total BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    commission_rule TEXT,
    refunded_quantity BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_order_id) REFERENCES vendor_orders (tenant_id, id)
);
CREATE INDEX order_lines_order ON order_lines (tenant_id, order_id, position);
CREATE TABLE order_transitions (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_order_id UUID,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE INDEX order_transitions_order ON order_transitions (tenant_id, order_id, id);
CREATE TABLE checkout_keys (
    tenant_id UUID NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE TABLE order_payments (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_message TEXT,
    idempotency_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE UNIQUE INDEX order_payments_key ON order_payments (tenant_id, order_id, idempotency_key);
CREATE INDEX order_payments_order ON order_payments (tenant_id, order_id);
CREATE UNIQUE INDEX order_payments_ref ON order_payments (tenant_id, provider, provider_ref);
CREATE TABLE order_payment_events (
    tenant_id UUID NOT NULL,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, event_id)
);
CREATE TABLE refunds (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    payment_id UUID NOT NULL,
    vendor_order_id UUID,
    kind TEXT NOT NULL CHECK (kind IN ('order', 'stray_payment')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    restock BOOLEAN NOT NULL,
    lines TEXT NOT NULL,
    shares TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE UNIQUE INDEX refunds_key ON refunds (tenant_id, order_id, idempotency_key);
CREATE TABLE returns (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    lines TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'accepted', 'rejected', 'refunded')),
    decided_by TEXT,
    decision_note TEXT,
    refund_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);
CREATE INDEX returns_order ON returns (tenant_id, order_id);
