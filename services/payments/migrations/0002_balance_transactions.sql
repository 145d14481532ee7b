CREATE TABLE test_provider_balance_transactions (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund', 'transfer', 'adjustment')),
    source TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount BIGINT NOT NULL,
    fee BIGINT NOT NULL CHECK (fee >= 0),
    net BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (net = amount - fee)
);
CREATE INDEX test_provider_balance_transactions_source ON test_provider_balance_transactions (tenant_id, source);
CREATE TABLE provider_import_cursors (
    tenant_id UUID NOT NULL,
    provider TEXT NOT NULL,
    last_ref TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
