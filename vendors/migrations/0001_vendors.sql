CREATE TABLE vendors (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    slug TEXT NOT NULL,
    store_name TEXT NOT NULL,
    legal_entity TEXT NOT NULL,
    country TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT,
    owner_user_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'onboarding', 'in_review', 'approved', 'rejected', 'suspended')),
    status_reason TEXT,
    holiday_until DATE,
    description TEXT,
    policies TEXT,
    return_address JSONB,
    logo_key TEXT,
    banner_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vendors_slug ON vendors (tenant_id, slug);
CREATE INDEX vendors_status ON vendors (tenant_id, status);
CREATE TABLE vendor_history (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id)
);
CREATE INDEX vendor_history_vendor ON vendor_history (tenant_id, vendor_id, id);
CREATE TABLE checklist_items (
    tenant_id UUID NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'confirmation', 'document', 'payout_account')),
    required BOOLEAN NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE TABLE vendor_checklist (
    tenant_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('completed', 'overridden')),
    value TEXT,
    document_key TEXT,
    completed_at TIMESTAMPTZ,
    completed_by TEXT,
    override_reason TEXT,
    overridden_by TEXT,
    overridden_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, vendor_id, code),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id)
);
