CREATE TABLE login_backoff (
    tenant_id UUID NOT NULL,
    subject TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    lockouts INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    forget_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, subject)
);
CREATE INDEX login_backoff_forget ON login_backoff (tenant_id, forget_at);
