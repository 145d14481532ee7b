CREATE TABLE vendors (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    status TEXT NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE variants (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    product_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    sku TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    low_stock_threshold BIGINT CHECK (low_stock_threshold IS NULL OR low_stock_threshold > 0),
    low_stock BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX variants_product ON variants (tenant_id, product_id);
CREATE TABLE warehouses (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    name TEXT NOT NULL,
    address JSONB NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX warehouses_name ON warehouses (tenant_id, vendor_id, name);
CREATE TABLE stock_levels (
    tenant_id UUID NOT NULL,
    warehouse_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, variant_id),
    CHECK (reserved <= on_hand),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES warehouses (tenant_id, id),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES variants (tenant_id, id)
);
CREATE INDEX stock_levels_variant ON stock_levels (tenant_id, variant_id);
CREATE TABLE stock_adjustments (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    warehouse_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    delta BIGINT NOT NULL CHECK (delta <> 0),
    reason TEXT NOT NULL CHECK (reason IN ('received', 'returned', 'damaged', 'lost', 'correction', 'sold')),
    note TEXT,
    on_hand_after BIGINT NOT NULL,
    reservation_id UUID,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, warehouse_id, variant_id) REFERENCES stock_levels (tenant_id, warehouse_id, variant_id)
);
CREATE INDEX stock_adjustments_warehouse ON stock_adjustments (tenant_id, warehouse_id, id);
CREATE INDEX stock_adjustments_variant ON stock_adjustments (tenant_id, variant_id, id);
CREATE TABLE reservations (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired')),
    reference TEXT,
    created_by TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    ended_by TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX reservations_creator ON reservations (tenant_id, created_by, id);
CREATE INDEX reservations_reference ON reservations (tenant_id, reference);
CREATE TABLE reservation_lines (
    tenant_id UUID NOT NULL,
    reservation_id UUID NOT NULL,
    line_no INTEGER NOT NULL,
    warehouse_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (tenant_id, reservation_id, line_no, warehouse_id),
    FOREIGN KEY (tenant_id, reservation_id) REFERENCES reservations (tenant_id, id),
    FOREIGN KEY (tenant_id, warehouse_id, variant_id) REFERENCES stock_levels (tenant_id, warehouse_id, variant_id)
);
CREATE TABLE idempotency_keys (
    tenant_id UUID NOT NULL,
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    request JSONB NOT NULL,
    status INTEGER NOT NULL,
    response JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, actor, idempotency_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (tenant_id, created_at);
