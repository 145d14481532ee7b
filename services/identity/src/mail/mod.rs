//! Notification mail. A mail is a row of `mail_outbox` written in the transaction of the
//! change that needs it, together with a `mail.send` job ([`queue`]); the job hands it to a
//! [`Mailer`] and marks it sent, so a crash loses no mail and a retry sends it again at most
//! (an already sent mail is done). [`FileMailer`] is the embedded shape's mailer: it files
//! each mail as an RFC 5322 `.eml` under `<mail_dir>/<shop id or "platform">/`.

mod delivery;
pub mod letters;
mod render;

pub use delivery::{DeliveryError, MailSender, queue};
pub use render::render_eml;

use crate::domain::Realm;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

mercato_kernel::typed_id!(
    /// One notification mail.
    pub MailId, "mail"
);

/// The job kind that delivers a mail.
pub const JOB_KIND: &str = "mail.send";

/// A mail ready to hand to a [`Mailer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: MailId,
    pub realm: Realm,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot write mail file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

/// Where mail goes: files here, an SMTP relay or a provider's API in a deployment that
/// adds one. Sending the same mail twice must be harmless (the job may run again).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;

    /// Forgets what it kept of mail sent before `before` (the retention sweep calls it);
    /// how many mails went. A mailer that hands mail on and keeps nothing has nothing to do.
    async fn forget_before(&self, _before: DateTime<Utc>) -> Result<u64, MailError> {
        Ok(0)
    }
}

/// Files each mail as `<dir>/<realm folder>/<mail id>.eml`. Writing goes through a temporary
/// file and a rename, so a reader never sees half a mail, and sending again overwrites the
/// same file.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let folder = self.dir.join(mail.realm.mail_folder());
        let path = folder.join(format!("{}.eml", mail.id));
        let partial = folder.join(format!(".{}.eml.partial", mail.id));
        let text = render_eml(mail);
        let error = |path: &std::path::Path| {
            let path = path.display().to_string();
            move |source| MailError::File { path, source }
        };
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(error(&folder))?;
        tokio::fs::write(&partial, text.as_bytes())
            .await
            .map_err(error(&partial))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(error(&path))?;
        Ok(())
    }

    /// Removes the `.eml` files (and abandoned partial ones) last written before `before`,
    /// in every realm's folder.
    async fn forget_before(&self, before: DateTime<Utc>) -> Result<u64, MailError> {
        let dir = self.dir.clone();
        let before = std::time::SystemTime::from(before);
        tokio::task::spawn_blocking(move || forget_files(&dir, before))
            .await
            .unwrap_or_else(|join| {
                Err(MailError::File {
                    path: join.to_string(),
                    source: std::io::Error::other("the forgetting task stopped"),
                })
            })
    }
}

/// [`FileMailer::forget_before`]'s walk: `<dir>/<realm>/<mail>.eml`, two levels, no more.
fn forget_files(dir: &std::path::Path, before: std::time::SystemTime) -> Result<u64, MailError> {
    let error = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| MailError::File { path, source }
    };
    let realms = match std::fs::read_dir(dir) {
        Ok(realms) => realms,
        // Nothing was ever sent.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(error(dir)(e)),
    };
    let mut forgotten = 0;
    for realm in realms {
        let realm = realm.map_err(error(dir))?;
        if !realm.file_type().map_err(error(&realm.path()))?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(realm.path()).map_err(error(&realm.path()))? {
            let file = file.map_err(error(&realm.path()))?;
            let path = file.path();
            let name = file.file_name();
            let name = name.to_string_lossy();
            if !(name.ends_with(".eml") || name.ends_with(".eml.partial")) {
                continue;
            }
            let written = file
                .metadata()
                .and_then(|m| m.modified())
                .map_err(error(&path))?;
            if written < before {
                match std::fs::remove_file(&path) {
                    Ok(()) => forgotten += 1,
                    // Another process of the deployment got there first.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(error(&path)(e)),
                }
            }
        }
    }
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_tenant_context::TenantId;

    fn mail(realm: Realm) -> Mail {
        Mail {
            id: MailId::new(),
            realm,
            from: "Mercato <no-reply@mercato.localhost>".into(),
            to: "ada@example.test".into(),
            subject: "Reset your password".into(),
            body: "Your code: mpr_abc\n".into(),
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn files_mail_by_realm_and_overwrites_on_resend() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = FileMailer::new(dir.path().join("mail"));
        let shop = TenantId::new();
        let first = mail(Realm::Shop(shop));
        mailer.send(&first).await.unwrap();
        mailer.send(&first).await.unwrap();
        let admin = mail(Realm::Platform);
        mailer.send(&admin).await.unwrap();

        let shop_dir = dir.path().join("mail").join(shop.to_string());
        let files: Vec<_> = std::fs::read_dir(&shop_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            files,
            vec![format!("{}.eml", first.id)],
            "one file, no leftovers"
        );
        let text = std::fs::read_to_string(shop_dir.join(&files[0])).unwrap();
        assert!(text.contains("To: ada@example.test\r\n"), "{text}");
        assert!(text.ends_with("Your code: mpr_abc\r\n"), "{text}");
        assert!(
            dir.path()
                .join("mail/platform")
                .join(format!("{}.eml", admin.id))
                .is_file()
        );
    }
}
