CREATE TABLE payout_settings (
    tenant_id UUID NOT NULL PRIMARY KEY,
    hold_days INTEGER NOT NULL CHECK (hold_days >= 0 AND hold_days <= 365),
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE payout_accounts (
    tenant_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    method TEXT NOT NULL,
    stripe_account_id TEXT,
    iban_masked TEXT,
    schedule TEXT NOT NULL,
    minimum_payout BIGINT NOT NULL CHECK (minimum_payout >= 0),
    currency TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, vendor_id)
);
CREATE TABLE vendor_earnings (
    tenant_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    discount_by_shop BIGINT NOT NULL,
    earnings BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    paid_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    available_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, vendor_order_id)
);
CREATE INDEX vendor_earnings_vendor ON vendor_earnings (tenant_id, vendor_id, currency);
CREATE TABLE applied_refunds (
    tenant_id UUID NOT NULL,
    refund_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    amount BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, refund_id, vendor_order_id)
);
CREATE TABLE payout_runs (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    idempotency_key TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    vendors_due INTEGER NOT NULL,
    vendors_done INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE TABLE payouts (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    run_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'in_transit', 'paid', 'failed')),
    method TEXT NOT NULL,
    reference TEXT,
    failure TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, run_id, vendor_id, currency)
);
CREATE INDEX payouts_vendor ON payouts (tenant_id, vendor_id, currency);
CREATE TABLE test_transfers (
    tenant_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    id TEXT NOT NULL,
    destination TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
