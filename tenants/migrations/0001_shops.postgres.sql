CREATE TABLE shops (
    tenant_id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    status_reason TEXT,
    plan TEXT NOT NULL,
    currency TEXT NOT NULL,
    locale TEXT NOT NULL,
    timezone TEXT NOT NULL,
    branding_name TEXT,
    primary_colour TEXT,
    accent_colour TEXT,
    support_email TEXT,
    feature_overrides JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE domains (
    tenant_id UUID NOT NULL REFERENCES shops (tenant_id),
    id UUID NOT NULL,
    hostname TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    verification_token TEXT NOT NULL,
    last_checked_at TIMESTAMPTZ,
    last_error TEXT,
    verified_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX domains_tenant_hostname ON domains (tenant_id, hostname);
CREATE UNIQUE INDEX domains_verified_hostname ON domains (hostname) WHERE status = 'verified';
