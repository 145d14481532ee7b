CREATE TABLE ledger_accounts (
    tenant_id UUID NOT NULL,
    currency TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'income', 'expense')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, currency, code)
);
CREATE TABLE journal_entries (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    entry_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    memo TEXT NOT NULL,
    order_id UUID,
    vendor_order_id UUID,
    source_event_id UUID,
    source_event TEXT,
    total BIGINT NOT NULL CHECK (total > 0),
    posted BOOLEAN NOT NULL DEFAULT FALSE,
    occurred_at TIMESTAMPTZ NOT NULL,
    posted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, entry_key)
);
CREATE INDEX journal_entries_order ON journal_entries (tenant_id, order_id);
CREATE TABLE journal_lines (
    tenant_id UUID NOT NULL,
    entry_id UUID NOT NULL,
    line_no INTEGER NOT NULL,
    currency TEXT NOT NULL,
    account_code TEXT NOT NULL,
    vendor_id UUID,
    debit BIGINT NOT NULL CHECK (debit >= 0),
    credit BIGINT NOT NULL CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0)),
    CHECK ((account_code = '2100') = (vendor_id IS NOT NULL)),
    PRIMARY KEY (tenant_id, entry_id, line_no),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES journal_entries (tenant_id, id),
    FOREIGN KEY (tenant_id, currency, account_code) REFERENCES ledger_accounts (tenant_id, currency, code)
);
CREATE INDEX journal_lines_vendor ON journal_lines (tenant_id, vendor_id, currency);
CREATE TABLE account_balances (
    tenant_id UUID NOT NULL,
    currency TEXT NOT NULL,
    code TEXT NOT NULL,
    vendor_key UUID NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, currency, code, vendor_key)
);
CREATE TABLE booked_vendor_orders (
    tenant_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    order_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    discount_by_shop BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, vendor_order_id)
);
