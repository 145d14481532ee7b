CREATE TABLE users (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'staff', 'customer', 'platform_admin')),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);
CREATE TABLE refresh_tokens (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    user_id UUID NOT NULL,
    family_id UUID NOT NULL,
    token_digest TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE UNIQUE INDEX refresh_tokens_digest ON refresh_tokens (tenant_id, token_digest);
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
