-- Expenses merchant staff record (ADR 0042), each with the journal entry that books it and,
-- once reversed, the entry that reverses it. `request` keeps the request an idempotency key
-- was first used with, so the same key with another request is refused.
CREATE TABLE expenses (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    request TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('product_cost', 'marketing', 'delivery_cost', 'other')),
    description TEXT NOT NULL,
    currency TEXT NOT NULL,
    gross BIGINT NOT NULL CHECK (gross > 0),
    net BIGINT NOT NULL CHECK (net >= 0),
    vat BIGINT NOT NULL CHECK (vat >= 0),
    vat_rate TEXT,
    incurred_on DATE NOT NULL,
    paid_from TEXT NOT NULL CHECK (paid_from IN ('bank', 'psp')),
    entry_id UUID NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    receipt_key TEXT,
    receipt_content_type TEXT,
    receipt_size BIGINT,
    reversed_at TIMESTAMPTZ,
    reversal_entry_id UUID,
    CHECK (net + vat = gross),
    CHECK ((reversed_at IS NULL) = (reversal_entry_id IS NULL)),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES journal_entries (tenant_id, id),
    FOREIGN KEY (tenant_id, reversal_entry_id) REFERENCES journal_entries (tenant_id, id)
);
CREATE INDEX expenses_incurred ON expenses (tenant_id, incurred_on);
-- Reports (profit and loss, VAT, statements) read the entries of a period by when they
-- occurred; their lines join through the primary key of journal_lines.
CREATE INDEX journal_entries_occurred ON journal_entries (tenant_id, currency, occurred_at);
