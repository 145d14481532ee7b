CREATE TABLE vendor_invitations (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
    token_digest TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vendor_invitations_digest ON vendor_invitations (tenant_id, token_digest);
CREATE INDEX vendor_invitations_vendor ON vendor_invitations (tenant_id, vendor_id, email);
