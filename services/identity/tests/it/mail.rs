//! The mail outbox: a mail exists exactly when its transaction commits, is delivered by its
//! job (or at once), is sent once however often delivery runs, and is retried when the
//! mailer fails.

use crate::on_every_backend;
use async_trait::async_trait;
use mercato_db::Db;
use mercato_identity::domain::Realm;
use mercato_identity::mail::{self, Mail, MailError, MailId, MailSender, Mailer};
use mercato_identity::repo;
use mercato_jobs::{JobStatus, Worker};
use mercato_tenant_context::TenantId;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FROM: &str = "Mercato <no-reply@test.example>";

/// Records what it is asked to send; fails the first `failures` times.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Mail>>,
    failures: Mutex<u32>,
}

#[async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(MailError::File {
                path: "nowhere".into(),
                source: std::io::Error::other("the mail server is down"),
            });
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl Recorder {
    fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap().clone()
    }
}

fn set_up(db: &Db, failures: u32) -> (Arc<Recorder>, MailSender, Worker) {
    let recorder = Arc::new(Recorder {
        failures: Mutex::new(failures),
        ..Recorder::default()
    });
    let sender = MailSender::new(db.clone(), recorder.clone(), FROM);
    let worker = Worker::new(db.clone(), mail::JOB_KIND, Arc::new(sender.clone()))
        .backoff(Duration::from_millis(1), Duration::from_millis(1));
    (recorder, sender, worker)
}

async fn queue_committed(db: &Db, tenant: TenantId, to: &str) -> MailId {
    let tx = db.tenant_tx(tenant).await.unwrap();
    let id = mail::queue(&tx, to, "Your code", "Code: mpr_secret\n")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn job_status(db: &Db, tenant: TenantId, id: MailId) -> (JobStatus, Option<String>) {
    let tx = db.tenant_read(tenant).await.unwrap();
    let job = mercato_jobs::latest_for(&*tx, tenant, mail::JOB_KIND, &id.to_string())
        .await
        .unwrap()
        .expect("the mail has a job");
    (job.status, job.last_error)
}

async fn stored(db: &Db, tenant: TenantId, id: MailId) -> Option<repo::mail::StoredMail> {
    let tx = db.tenant_read(tenant).await.unwrap();
    repo::mail::find(&tx, id).await.unwrap()
}

async fn a_mail_exists_only_if_its_change_commits(db: Db) {
    let shop = TenantId::new();
    let (recorder, _, worker) = set_up(&db, 0);
    let tx = db.tenant_tx(shop).await.unwrap();
    mail::queue(&tx, "gone@example.test", "Never", "sent")
        .await
        .unwrap();
    drop(tx);
    assert!(
        !worker.run_once().await.unwrap(),
        "no job survived the rollback"
    );

    let id = queue_committed(&db, shop, "ada@example.test").await;
    assert!(worker.run_once().await.unwrap());
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, id);
    assert_eq!(sent[0].realm, Realm::Shop(shop));
    assert_eq!(sent[0].from, FROM);
    assert_eq!(sent[0].to, "ada@example.test");
    assert_eq!(sent[0].body, "Code: mpr_secret\n");
    assert_eq!(job_status(&db, shop, id).await.0, JobStatus::Succeeded);

    // Recorded as sent, and the secret no longer sits in the database.
    let row = stored(&db, shop, id).await.unwrap();
    assert!(row.sent_at.is_some());
    assert_eq!(row.body, repo::mail::DELIVERED_BODY);
    // Another shop cannot see it.
    assert!(stored(&db, TenantId::new(), id).await.is_none());

    // Platform mail (the admins' realm) files under the platform.
    let platform = Realm::Platform.storage_tenant();
    queue_committed(&db, platform, "admin@example.test").await;
    assert!(worker.run_once().await.unwrap());
    assert_eq!(recorder.sent()[1].realm, Realm::Platform);
}

async fn a_mail_is_sent_once_however_often_delivery_runs(db: Db) {
    let shop = TenantId::new();
    let (recorder, sender, worker) = set_up(&db, 0);
    let id = queue_committed(&db, shop, "ada@example.test").await;
    assert!(sender.deliver(shop, id).await.unwrap(), "sent at once");
    assert!(!sender.deliver(shop, id).await.unwrap(), "then not again");
    assert!(worker.run_once().await.unwrap(), "the job runs");
    assert_eq!(job_status(&db, shop, id).await.0, JobStatus::Succeeded);
    assert_eq!(recorder.sent().len(), 1, "and finds it sent");
}

async fn a_failing_mailer_is_retried(db: Db) {
    let shop = TenantId::new();
    let (recorder, _, worker) = set_up(&db, 1);
    let id = queue_committed(&db, shop, "ada@example.test").await;
    assert!(worker.run_once().await.unwrap());
    assert!(recorder.sent().is_empty());
    let (status, error) = job_status(&db, shop, id).await;
    assert_eq!(status, JobStatus::Queued);
    assert!(error.unwrap().contains("down"));
    let row = stored(&db, shop, id).await.unwrap();
    assert!(row.sent_at.is_none() && row.body.contains("mpr_secret"));

    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(worker.run_once().await.unwrap());
    assert_eq!(recorder.sent().len(), 1);
    assert_eq!(job_status(&db, shop, id).await.0, JobStatus::Succeeded);
}

on_every_backend!(
    a_mail_exists_only_if_its_change_commits,
    a_mail_is_sent_once_however_often_delivery_runs,
    a_failing_mailer_is_retried,
);
