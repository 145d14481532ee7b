//! Domain ownership checks. Adding a domain enqueues a `domain.verify` job; each run looks
//! for `_mercato-verify.<domain>` TXT = token. Not found yet → the job retries with backoff;
//! out of attempts → the domain is `failed` until the merchant asks for a new check.

use crate::dns::TxtLookup;
use crate::events;
use crate::repo::domains::{self, DomainId, DomainStatus};
use mercato_db::{Db, TenantTx};
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob};
use std::sync::Arc;

pub const JOB_KIND: &str = "domain.verify";

/// The DNS name a merchant puts the token at.
pub fn record_name(hostname: &str) -> String {
    format!("_mercato-verify.{hostname}")
}

/// Schedules a check now, in the caller's transaction.
pub async fn schedule(
    tx: &TenantTx,
    domain: DomainId,
    max_attempts: i32,
) -> Result<(), sea_orm::DbErr> {
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: JOB_KIND,
            payload: serde_json::json!({ "domain_id": domain }),
            subject: Some(domain.to_string()),
            run_at: crate::now(),
            max_attempts,
        },
    )
    .await
    .map(|_| ())
}

pub struct DomainVerifier {
    pub db: Db,
    pub lookup: Arc<dyn TxtLookup>,
    pub outbox: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl JobHandler for DomainVerifier {
    async fn run(&self, job: &Job) -> JobOutcome {
        match self.check(job).await {
            Ok(outcome) => outcome,
            Err(e) => JobOutcome::Retry(format!("database error: {e}")),
        }
    }
}

impl DomainVerifier {
    async fn check(&self, job: &Job) -> Result<JobOutcome, sea_orm::DbErr> {
        let Some(id) = job
            .payload
            .get("domain_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<DomainId>().ok())
        else {
            return Ok(JobOutcome::Fail("job payload has no domain_id".into()));
        };
        let tx = self.db.tenant_tx(job.tenant).await?;
        let Some(domain) = domains::find(&tx, id).await? else {
            return Ok(JobOutcome::Done); // removed meanwhile
        };
        drop(tx);
        if domain.status == DomainStatus::Verified {
            return Ok(JobOutcome::Done);
        }

        let found = self.lookup.txt(&record_name(&domain.hostname)).await;
        let now = crate::now();
        let mut checked = domain.clone();
        checked.last_checked_at = Some(now);
        let problem = match found {
            Ok(values) if values.iter().any(|v| v.trim() == domain.verification_token) => None,
            Ok(_) => Some(format!(
                "the TXT record at {} does not contain the token",
                record_name(&domain.hostname)
            )),
            Err(e) => Some(e.to_string()),
        };

        let tx = self.db.tenant_tx(job.tenant).await?;
        let outcome = match problem {
            None => {
                checked.status = DomainStatus::Verified;
                checked.verified_at = Some(now);
                checked.last_error = None;
                match domains::record_check(&tx, &checked).await {
                    Ok(()) => {
                        events::domain(&*tx, "domain.verified", &checked).await?;
                        JobOutcome::Done
                    }
                    // Another shop verified this host name first.
                    Err(e) if mercato_db::is_unique_violation(&e) => {
                        drop(tx);
                        let tx = self.db.tenant_tx(job.tenant).await?;
                        checked.status = DomainStatus::Failed;
                        checked.verified_at = None;
                        checked.last_error =
                            Some("this domain is already verified by another shop".into());
                        domains::record_check(&tx, &checked).await?;
                        events::domain(&*tx, "domain.failed", &checked).await?;
                        tx.commit().await?;
                        self.outbox.notify_one();
                        return Ok(JobOutcome::Fail("domain taken by another shop".into()));
                    }
                    Err(e) => return Err(e),
                }
            }
            Some(message) => {
                let last_try = job.attempts >= job.max_attempts;
                checked.status = if last_try {
                    DomainStatus::Failed
                } else {
                    DomainStatus::Pending
                };
                checked.last_error = Some(message.clone());
                domains::record_check(&tx, &checked).await?;
                if last_try {
                    events::domain(&*tx, "domain.failed", &checked).await?;
                    JobOutcome::Fail(message)
                } else {
                    JobOutcome::Retry(message)
                }
            }
        };
        tx.commit().await?;
        self.outbox.notify_one();
        tracing::info!(tenant_id = %job.tenant, domain = %checked.hostname, status = checked.status.code(), "domain checked");
        Ok(outcome)
    }
}
