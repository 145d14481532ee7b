-- Commission invoices from the shop to its vendors (ADR 0043): a document of a payout, not
-- of an order, so documents may name no order, and name the payout instead.
ALTER TABLE customer_documents DROP CONSTRAINT customer_documents_kind_check;
ALTER TABLE customer_documents ADD CONSTRAINT customer_documents_kind_check CHECK (kind IN ('invoice', 'credit_note', 'commission'));
ALTER TABLE customer_documents ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE customer_documents ALTER COLUMN vendor_order_id DROP NOT NULL;
ALTER TABLE customer_documents ADD COLUMN payout_id UUID;
ALTER TABLE customer_documents ADD CONSTRAINT customer_documents_of_something CHECK ((order_id IS NOT NULL AND vendor_order_id IS NOT NULL) OR (kind = 'commission' AND payout_id IS NOT NULL));
-- The shop's legal details and whether it sells in its own name.
CREATE TABLE invoice_settings (
    tenant_id UUID NOT NULL PRIMARY KEY,
    legal_name TEXT NOT NULL,
    address TEXT NOT NULL,
    country TEXT NOT NULL,
    vat_id TEXT,
    sells_in_own_name BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);
-- Mirrors: vendors' legal details (from vendor.*) and the shop's tax rates (from tax_rate.*).
CREATE TABLE vendor_legal (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    legal_name TEXT NOT NULL,
    address TEXT,
    country TEXT NOT NULL,
    vat_id TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE tax_rates (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    country TEXT NOT NULL,
    category TEXT NOT NULL,
    rate TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tax_rates_country ON tax_rates (tenant_id, country, category);
