CREATE TABLE document_order_tokens (
    tenant_id UUID NOT NULL,
    order_id UUID NOT NULL,
    token_hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, order_id)
);
