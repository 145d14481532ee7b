//! The only place that queries the identity database. Every function takes a `TenantTx`:
//! the realm's rows are all it can see; `retention` alone purges across realms.

pub mod api_keys;
pub mod entities;
pub mod login_backoff;
pub mod mail;
pub mod one_time;
pub mod retention;
pub mod tokens;
pub mod users;
pub mod vendor_invitations;
pub mod vendor_members;

use mercato_db::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users and refresh tokens",
        sqlite: include_str!("../../migrations/0001_users.sqlite.sql"),
        postgres: include_str!("../../migrations/0001_users.postgres.sql"),
        tenant_tables: &["users", "refresh_tokens"],
    },
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    Migration {
        version: 2,
        name: "mail outbox, one-time tokens, api keys",
        sqlite: include_str!("../../migrations/0002_staff.sqlite.sql"),
        postgres: include_str!("../../migrations/0002_staff.postgres.sql"),
        tenant_tables: &["mail_outbox", "one_time_tokens", "api_keys"],
    },
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
    Migration::portable(
        3,
        "vendor memberships",
        include_str!("../../migrations/0003_vendor_members.sql"),
        &["vendor_members"],
    ),
    Migration::portable(
        4,
        "vendor staff invitations",
        include_str!("../../migrations/0004_vendor_invitations.sql"),
        &["vendor_invitations"],
    ),
    Migration::portable(
        5,
        "sign-in back-off",
        include_str!("../../migrations/0005_login_backoff.sql"),
        &["login_backoff"],
    ),
    // `users` is a tenant table already (row-level security from migration 1).
    Migration::portable(
        6,
        "session epochs",
        include_str!("../../migrations/0006_session_epoch.sql"),
        &[],
    ),
    Migration::portable(
        7,
        "sent mail by sending time",
        include_str!("../../migrations/0007_sent_mail_index.sql"),
        &[],
    ),
];
