-- Commission invoices from the shop to its vendors (ADR 0043): a document of a payout, not
-- of an order. SQLite cannot change a column's constraints, so the documents' table is
-- rebuilt (its self-reference written against the new name, which the rename carries over).
CREATE TABLE customer_documents_new (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'commission')),
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
    CHECK ((order_id IS NOT NULL AND vendor_order_id IS NOT NULL) OR (kind = 'commission' AND payout_id IS NOT NULL)),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, source_key),
    UNIQUE (tenant_id, series, seq),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, series) REFERENCES document_counters (tenant_id, series),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES customer_documents_new (tenant_id, id)
);
INSERT INTO customer_documents_new (tenant_id, id, kind, series, seq, number, source_key, order_id, vendor_order_id, vendor_id, customer_id, refund_id, invoice_id, currency, net, tax, shipping, discount, total, body, status, object_key, issued_at, rendered_at) SELECT tenant_id, id, kind, series, seq, number, source_key, order_id, vendor_order_id, vendor_id, customer_id, refund_id, invoice_id, currency, net, tax, shipping, discount, total, body, status, object_key, issued_at, rendered_at FROM customer_documents ORDER BY tenant_id, issued_at;
DROP TABLE customer_documents;
ALTER TABLE customer_documents_new RENAME TO customer_documents;
CREATE INDEX customer_documents_order ON customer_documents (tenant_id, order_id);
CREATE INDEX customer_documents_vendor ON customer_documents (tenant_id, vendor_id);
CREATE INDEX customer_documents_customer ON customer_documents (tenant_id, customer_id);
-- The shop's legal details and whether it sells in its own name.
CREATE TABLE invoice_settings (
    tenant_id BLOB NOT NULL PRIMARY KEY,
    legal_name TEXT NOT NULL,
    address TEXT NOT NULL,
    country TEXT NOT NULL,
    vat_id TEXT,
    sells_in_own_name BOOLEAN NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
-- Mirrors: vendors' legal details (from vendor.*) and the shop's tax rates (from tax_rate.*).
CREATE TABLE vendor_legal (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    synced_at TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    address TEXT,
    country TEXT NOT NULL,
    vat_id TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE tax_rates (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    synced_at TEXT NOT NULL,
    country TEXT NOT NULL,
    category TEXT NOT NULL,
    rate TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tax_rates_country ON tax_rates (tenant_id, country, category);
