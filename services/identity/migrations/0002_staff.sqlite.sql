CREATE TABLE mail_outbox (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE one_time_tokens (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    email TEXT NOT NULL,
    role TEXT CHECK (role IN ('owner', 'admin', 'staff')),
    user_id BLOB,
    token_digest TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CHECK (purpose <> 'invitation' OR role IS NOT NULL),
    CHECK (purpose <> 'password_reset' OR user_id IS NOT NULL)
);
CREATE UNIQUE INDEX one_time_tokens_digest ON one_time_tokens (tenant_id, token_digest);
CREATE INDEX one_time_tokens_email ON one_time_tokens (tenant_id, purpose, email);
CREATE INDEX one_time_tokens_user ON one_time_tokens (tenant_id, user_id);
CREATE TABLE api_keys (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    key_digest TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_digest ON api_keys (tenant_id, key_digest);
CREATE INDEX users_tenant_role ON users (tenant_id, role, status);
