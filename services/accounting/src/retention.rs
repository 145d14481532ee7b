//! Retention: inbox records go after 30 days (`mercato_events::KEEP_PROCESSED`), swept at
//! start and then hourly (ADR 0027). The ledger itself is never purged: entries are the
//! shop's books. An event redelivered after its inbox record went posts nothing either,
//! since every entry's key is unique (`events`).

use mercato_db::Db;
use sea_orm::DbErr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// One sweep: how many inbox records and finished jobs (document renders) went.
pub async fn sweep(db: &Db) -> Result<u64, DbErr> {
    let inbox =
        mercato_events::purge_processed(db, crate::now() - mercato_events::KEEP_PROCESSED).await?;
    let jobs = mercato_jobs::purge_finished(db, crate::now() - mercato_jobs::KEEP_FINISHED).await?;
    Ok(inbox + jobs)
}

/// Sweeps at start and then every [`SWEEP_INTERVAL`] until `shutdown`.
pub async fn worker(db: Db, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("accounting", SWEEP_INTERVAL, shutdown, || sweep(&db)).await;
}
