CREATE TABLE test_provider_intents (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('succeeded', 'processing', 'requires_action', 'failed', 'canceled')),
    failure_code TEXT,
    failure_message TEXT,
    transfer_group TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'failed') = (failure_code IS NOT NULL))
);
CREATE UNIQUE INDEX test_provider_intents_key ON test_provider_intents (tenant_id, idempotency_key);
CREATE TABLE test_provider_refunds (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    intent_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, intent_id) REFERENCES test_provider_intents (tenant_id, id)
);
CREATE UNIQUE INDEX test_provider_refunds_key ON test_provider_refunds (tenant_id, idempotency_key);
CREATE INDEX test_provider_refunds_intent ON test_provider_refunds (tenant_id, intent_id);
