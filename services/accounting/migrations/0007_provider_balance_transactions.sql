CREATE TABLE provider_balance_transactions (
    tenant_id UUID NOT NULL,
    provider TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    fee BIGINT NOT NULL,
    net BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, id)
);
CREATE INDEX provider_balance_transactions_period ON provider_balance_transactions (tenant_id, currency, created_at);
