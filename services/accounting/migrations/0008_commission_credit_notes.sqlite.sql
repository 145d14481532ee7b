-- Commission credit notes (ADR 0043): a refund of a vendor order whose commission a
-- commission invoice carried credits the vendor that commission, and its VAT. SQLite cannot
-- change a column's constraints, so the documents' table is rebuilt again (as in 0005).
CREATE TABLE customer_documents_new (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'commission', 'commission_credit_note')),
    series TEXT NOT NULL,
    seq BIGINT NOT NULL CHECK (seq > 0),
    number TEXT NOT NULL,
    source_key TEXT NOT NULL,
    order_id BLOB,
    vendor_order_id BLOB,
    vendor_id BLOB NOT NULL,
    customer_id BLOB,
    refund_id BLOB,
    invoice_id BLOB,
    currency TEXT NOT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    shipping BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'rendered')),
    object_key TEXT,
    issued_at TEXT NOT NULL,
    rendered_at TEXT,
    payout_id BLOB,
    CHECK ((order_id IS NOT NULL AND vendor_order_id IS NOT NULL) OR (kind IN ('commission', 'commission_credit_note') AND payout_id IS NOT NULL)),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, source_key),
    UNIQUE (tenant_id, series, seq),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, series) REFERENCES document_counters (tenant_id, series),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES customer_documents_new (tenant_id, id)
);
INSERT INTO customer_documents_new (tenant_id, id, kind, series, seq, number, source_key, order_id, vendor_order_id, vendor_id, customer_id, refund_id, invoice_id, currency, net, tax, shipping, discount, total, body, status, object_key, issued_at, rendered_at, payout_id) SELECT tenant_id, id, kind, series, seq, number, source_key, order_id, vendor_order_id, vendor_id, customer_id, refund_id, invoice_id, currency, net, tax, shipping, discount, total, body, status, object_key, issued_at, rendered_at, payout_id FROM customer_documents ORDER BY tenant_id, issued_at;
DROP TABLE customer_documents;
ALTER TABLE customer_documents_new RENAME TO customer_documents;
CREATE INDEX customer_documents_order ON customer_documents (tenant_id, order_id);
CREATE INDEX customer_documents_vendor ON customer_documents (tenant_id, vendor_id);
CREATE INDEX customer_documents_customer ON customer_documents (tenant_id, customer_id);
-- Which commission invoice carried each vendor order's commission, and at which VAT
-- (`vat_rate` null: reverse charge).
CREATE TABLE commission_items (
    tenant_id BLOB NOT NULL,
    vendor_order_id BLOB NOT NULL,
    document_id BLOB NOT NULL,
    payout_id BLOB NOT NULL,
    commission BIGINT NOT NULL,
    vat_rate TEXT,
    PRIMARY KEY (tenant_id, vendor_order_id)
);
