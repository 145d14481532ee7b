CREATE TABLE commission_rules (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID,
    category_id UUID,
    percent TEXT,
    fixed_fee_amount BIGINT CHECK (fixed_fee_amount >= 0),
    fixed_fee_currency TEXT,
    limits JSONB NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    deleted_at TIMESTAMPTZ,
    deleted_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
    CHECK (percent IS NOT NULL OR fixed_fee_amount IS NOT NULL),
    CHECK ((fixed_fee_amount IS NULL) = (fixed_fee_currency IS NULL))
);
CREATE INDEX commission_rules_vendor ON commission_rules (tenant_id, vendor_id);
CREATE INDEX commission_rules_category ON commission_rules (tenant_id, category_id);
CREATE TABLE payout_accounts (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('bank_transfer', 'stripe_connect')),
    account_holder TEXT,
    iban TEXT,
    stripe_account_id TEXT,
    schedule TEXT NOT NULL CHECK (schedule IN ('daily', 'weekly', 'monthly', 'manual')),
    minimum_payout BIGINT NOT NULL CHECK (minimum_payout >= 0),
    currency TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
    CHECK ((method = 'bank_transfer') = (iban IS NOT NULL AND account_holder IS NOT NULL)),
    CHECK ((method = 'stripe_connect') = (stripe_account_id IS NOT NULL))
);
CREATE UNIQUE INDEX payout_accounts_vendor ON payout_accounts (tenant_id, vendor_id);
