//! Retention: the sweep that keeps this service's bookkeeping tables bounded. At start and
//! then hourly it deletes, across all realms and in bounded batches, what has outlived its
//! window (ADR 0027):
//!
//! - sign-in back-off rows past their `forget_at` (ADR 0025): a new subject sweeps a few as
//!   it arrives, this catches the rest when no new subjects come;
//! - published outbox rows after 7 days, inbox records after 30 days
//!   (`mercato_events::KEEP_PUBLISHED`, `KEEP_PROCESSED`) and finished jobs after 14 days
//!   (`mercato_jobs::KEEP_FINISHED`), among them the password-reset requests, which carry
//!   the email someone asked for;
//! - sent mail after 14 days ([`KEEP_SENT_MAIL`]): its record (the body went at sending)
//!   and, with the file mailer, its `.eml` file.

use crate::mail::MailSender;
use crate::repo::retention;
use chrono::{SubsecRound, TimeDelta, Utc};
use mercato_db::Db;
use sea_orm::DbErr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a sent mail's record (and the file mailer's file) is kept: long enough to see
/// what was sent while answering a "did my invitation go out?", no longer, since it names
/// the person it went to.
pub const KEEP_SENT_MAIL: TimeDelta = TimeDelta::days(14);

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// One sweep: everything past its window goes; how many rows in all.
pub async fn sweep(db: &Db, mail: &MailSender) -> Result<u64, DbErr> {
    let now = Utc::now().trunc_subsecs(6);
    let mut purged = retention::purge_forgotten_backoff(db, now).await?;
    purged += mail.forget_sent(now - KEEP_SENT_MAIL).await?;
    purged += mercato_events::purge_published(db, now - mercato_events::KEEP_PUBLISHED).await?;
    purged += mercato_events::purge_processed(db, now - mercato_events::KEEP_PROCESSED).await?;
    purged += mercato_jobs::purge_finished(db, now - mercato_jobs::KEEP_FINISHED).await?;
    Ok(purged)
}

/// Sweeps at start and then every [`SWEEP_INTERVAL`] until `shutdown`.
pub async fn worker(db: Db, mail: MailSender, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("identity", SWEEP_INTERVAL, shutdown, || sweep(&db, &mail)).await;
}
