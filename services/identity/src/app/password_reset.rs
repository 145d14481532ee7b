//! Asking for a password reset. The request does the same work whatever the email: it
//! writes one `identity.password_reset` job carrying the email and commits, so neither its
//! answer nor its timing says whether an account has the email (ADR 0025). The job then
//! looks the account up and, if it is active and has fewer than
//! [`MAX_PENDING_RESETS`] codes pending, writes the one-time code and its mail and sends it.

use crate::IdentityState;
use crate::domain::one_time::{MAX_PENDING_RESETS, Purpose};
use crate::domain::{Email, Realm};
use crate::mail::{self, letters};
use crate::repo::one_time::{self, NewToken};
use crate::repo::users;
use async_trait::async_trait;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

/// The job kind that handles one reset request.
pub const JOB_KIND: &str = "identity.password_reset";

/// Runs before the job gives up (a database that stays down).
const MAX_ATTEMPTS: i32 = 10;

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    email: String,
}

/// Records the request; the caller answers 202 either way.
pub async fn request(state: &IdentityState, realm: Realm, email: &Email) -> Result<(), DbErr> {
    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    let payload = serde_json::to_value(Payload {
        email: email.as_str().to_owned(),
    })
    .map_err(|e| DbErr::Custom(format!("cannot encode a reset request: {e}")))?;
    mercato_jobs::enqueue(
        &*tx,
        NewJob {
            tenant: tx.tenant(),
            kind: JOB_KIND,
            subject: None,
            payload,
            run_at: chrono::Utc::now(),
            max_attempts: MAX_ATTEMPTS,
        },
    )
    .await?;
    tx.commit().await?;
    state.reset_requests.notify_one();
    Ok(())
}

/// The handler of [`JOB_KIND`] jobs.
#[derive(Clone)]
pub struct ResetRequests(pub IdentityState);

impl ResetRequests {
    /// Issues the code and queues its mail if the account may have one; returns the mail.
    /// The code's id is the job's, so a job that runs again after its commit finds its code
    /// and does nothing more: one request, at most one code.
    async fn issue(&self, job: &Job, email: &Email) -> Result<Option<mail::MailId>, DbErr> {
        let tx = self.0.db.tenant_tx(job.tenant).await?;
        if one_time::exists(&tx, job.id.as_uuid()).await? {
            return Ok(None);
        }
        let Some(user) = users::find_by_email(&tx, email).await?.filter(|u| u.active) else {
            return Ok(None);
        };
        if one_time::count_pending_resets(&tx, user.id).await? >= MAX_PENDING_RESETS {
            return Ok(None);
        }
        let secret = mercato_auth::OpaqueSecret::generate(Purpose::PasswordReset.secret_prefix());
        one_time::insert(
            &tx,
            NewToken {
                id: Some(job.id.as_uuid()),
                purpose: Purpose::PasswordReset,
                email: &user.email,
                role: None,
                user: Some(user.id),
                digest: &secret.digest,
                created_by: None,
            },
        )
        .await?;
        let letter = letters::password_reset(&secret.text);
        let mail = mail::queue(&tx, &user.email, &letter.subject, &letter.body).await?;
        tx.commit().await?;
        Ok(Some(mail))
    }
}

#[async_trait]
impl JobHandler for ResetRequests {
    async fn run(&self, job: &Job) -> JobOutcome {
        let payload: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(e) => return JobOutcome::Fail(format!("invalid reset request payload: {e}")),
        };
        let Ok(email) = Email::parse(&payload.email) else {
            return JobOutcome::Fail("the reset request's email is not valid".to_owned());
        };
        match self.issue(job, &email).await {
            Ok(Some(mail)) => {
                // The mail has its own `mail.send` job; sending it now only saves the wait.
                if let Err(error) = self.0.mail.deliver(job.tenant, mail).await {
                    tracing::warn!(tenant_id = %job.tenant, mail_id = %mail, %error, "reset mail not sent yet; its job will retry");
                }
                JobOutcome::Done
            }
            Ok(None) => JobOutcome::Done,
            // Another run of this job committed the same code first.
            Err(e) if mercato_db::is_unique_violation(&e) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}
