CREATE TABLE document_counters (
    tenant_id UUID NOT NULL,
    series TEXT NOT NULL,
    last_number BIGINT NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (tenant_id, series)
);
CREATE TABLE customer_documents (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    series TEXT NOT NULL,
    seq BIGINT NOT NULL CHECK (seq > 0),
    number TEXT NOT NULL,
    source_key TEXT NOT NULL,
    order_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    customer_id UUID,
    refund_id UUID,
    invoice_id UUID,
    currency TEXT NOT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    shipping BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'rendered')),
    object_key TEXT,
    issued_at TIMESTAMPTZ NOT NULL,
    rendered_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, source_key),
    UNIQUE (tenant_id, series, seq),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, series) REFERENCES document_counters (tenant_id, series),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES customer_documents (tenant_id, id)
);
CREATE INDEX customer_documents_order ON customer_documents (tenant_id, order_id);
CREATE INDEX customer_documents_vendor ON customer_documents (tenant_id, vendor_id);
CREATE INDEX customer_documents_customer ON customer_documents (tenant_id, customer_id);
