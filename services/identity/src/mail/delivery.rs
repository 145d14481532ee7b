//! Queuing a mail in the caller's transaction, and delivering it: by the `mail.send` job,
//! and at once after the commit so nobody waits for the worker's next poll.

use super::{JOB_KIND, Mail, MailId, Mailer};
use crate::domain::Realm;
use crate::repo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_db::{Db, TenantTx};
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob};
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use std::sync::Arc;

/// Delivery attempts before a mail's job gives up.
const MAX_ATTEMPTS: i32 = 10;

/// Writes a mail and the job that delivers it, in the caller's transaction: the mail exists
/// exactly when the change that needs it commits.
pub async fn queue(tx: &TenantTx, to: &str, subject: &str, body: &str) -> Result<MailId, DbErr> {
    let id = repo::mail::insert(tx, to, subject, body).await?;
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: JOB_KIND,
            subject: Some(id.to_string()),
            payload: serde_json::json!({ "mail_id": id }),
            run_at: chrono::Utc::now(),
            max_attempts: MAX_ATTEMPTS,
        },
    )
    .await?;
    Ok(id)
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("mail database error: {0}")]
    Db(#[from] DbErr),
    #[error("mail {0} does not exist")]
    Missing(MailId),
    #[error(transparent)]
    Mailer(#[from] super::MailError),
}

/// Hands stored mails to the mailer and records them sent.
#[derive(Clone)]
pub struct MailSender {
    db: Db,
    mailer: Arc<dyn Mailer>,
    from: Arc<str>,
}

impl MailSender {
    pub fn new(db: Db, mailer: Arc<dyn Mailer>, from: &str) -> Self {
        Self {
            db,
            mailer,
            from: from.into(),
        }
    }

    /// Sends one mail unless it was sent already; returns whether this call sent it. The
    /// mailer runs outside any transaction: a crash after sending and before recording sends
    /// the mail again on retry, which a mailer must tolerate.
    pub async fn deliver(&self, tenant: TenantId, id: MailId) -> Result<bool, DeliveryError> {
        let tx = self.db.tenant_read(tenant).await?;
        let stored = repo::mail::find(&tx, id).await?;
        drop(tx);
        let stored = stored.ok_or(DeliveryError::Missing(id))?;
        if stored.sent_at.is_some() {
            return Ok(false);
        }
        let mail = Mail {
            id,
            realm: Realm::of_storage(tenant),
            from: self.from.to_string(),
            to: stored.to,
            subject: stored.subject,
            body: stored.body,
            created_at: stored.created_at,
        };
        self.mailer.send(&mail).await?;
        let tx = self.db.tenant_tx(tenant).await?;
        let recorded = repo::mail::mark_sent(&tx, id).await?;
        tx.commit().await?;
        tracing::info!(tenant_id = %tenant, mail_id = %id, "mail sent");
        Ok(recorded)
    }

    /// Forgets mail sent before `before`: its rows (their bodies went at sending) and what
    /// the mailer kept of it (the file mailer's files); how many rows and files went. Mail
    /// not sent yet stays, whatever its age.
    pub async fn forget_sent(&self, before: DateTime<Utc>) -> Result<u64, DbErr> {
        let mut forgotten = repo::retention::purge_sent_mail(&self.db, before).await?;
        match self.mailer.forget_before(before).await {
            Ok(files) => forgotten += files,
            // The rows are gone all the same; the files wait for the next sweep.
            Err(error) => tracing::warn!(%error, "the mailer could not forget old mail"),
        }
        Ok(forgotten)
    }

    /// Delivers mails just committed, in the background. Failures are only logged: each mail
    /// has its job, which retries.
    pub fn dispatch(&self, tenant: TenantId, ids: Vec<MailId>) {
        if ids.is_empty() {
            return;
        }
        let sender = self.clone();
        tokio::spawn(async move {
            for id in ids {
                if let Err(error) = sender.deliver(tenant, id).await {
                    tracing::warn!(tenant_id = %tenant, mail_id = %id, %error, "mail not sent yet; its job will retry");
                }
            }
        });
    }
}

#[derive(serde::Deserialize)]
struct Payload {
    mail_id: MailId,
}

#[async_trait]
impl JobHandler for MailSender {
    async fn run(&self, job: &Job) -> JobOutcome {
        let payload: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(e) => return JobOutcome::Fail(format!("invalid mail job payload: {e}")),
        };
        match self.deliver(job.tenant, payload.mail_id).await {
            Ok(_) => JobOutcome::Done,
            Err(e @ DeliveryError::Missing(_)) => JobOutcome::Fail(e.to_string()),
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}
