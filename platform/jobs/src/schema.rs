//! The `jobs` table. Timestamps are `TIMESTAMPTZ` on PostgreSQL and RFC 3339 `TEXT` on SQLite,
//! where every value — stored or compared against — is bound as a `DateTime<Utc>` so they share
//! one format (UTC offset, microseconds at most) and compare correctly as text.

use mercato_db::Migration;

/// The jobs table for a service's schema. Services append it to their migrations; its version
/// (9101) stays clear of a service's own numbering.
pub const JOBS_MIGRATION: Migration = Migration {
    version: 9101,
    name: "jobs",
    sqlite: "CREATE TABLE jobs (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX jobs_due ON jobs (kind, status, run_at);
CREATE INDEX jobs_subject ON jobs (tenant_id, kind, subject, created_at);
",
    postgres: "CREATE TABLE jobs (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    payload JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX jobs_due ON jobs (kind, status, run_at);
CREATE INDEX jobs_subject ON jobs (tenant_id, kind, subject, created_at);
",
    tenant_tables: &["jobs"],
};

/// The age index of finished jobs, for the retention purge ([`crate::purge_finished`]);
/// queued and running jobs stay out of it. Services append it after [`JOBS_MIGRATION`].
pub const JOBS_AGE_INDEX_MIGRATION: Migration = Migration::portable(
    9102,
    "finished jobs by finishing time",
    "CREATE INDEX jobs_finished_at ON jobs (updated_at) WHERE status IN ('succeeded', 'failed');\n",
    &[],
);
