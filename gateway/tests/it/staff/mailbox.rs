//! Reading the mail the identity service filed under the test's data dir.

use crate::support::{TestApp, eventually};

/// A mail the identity service filed as `.eml`.
#[derive(Debug, Clone)]
pub struct Mail {
    pub file: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub text: String,
}

impl Mail {
    /// The one-time code starting with `prefix` (`mit_`, `mpr_`) in the body.
    pub fn code(&self, prefix: &str) -> String {
        let start = self.body.find(prefix).expect("a code in the mail");
        self.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

fn parse(file: String, text: String) -> Mail {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("headers, blank line, body");
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .to_owned()
    };
    Mail {
        file,
        to: header("To"),
        subject: header("Subject"),
        body: body.to_owned(),
        text: text.clone(),
    }
}

/// The mails filed in `folder` (a shop id or `platform`) to `to`, oldest first.
pub fn mails_to(app: &TestApp, folder: &str, to: &str) -> Vec<Mail> {
    let dir = app.mail_dir().join(folder);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    // Mail ids are time-ordered.
    files.sort();
    files
        .into_iter()
        .filter_map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).ok()?;
            Some(parse(name, text))
        })
        .filter(|m| m.to == to)
        .collect()
}

/// Waits for the `n`th mail to `to` in `folder` and returns it.
pub async fn nth_mail(app: &TestApp, folder: &str, to: &str, n: usize) -> Mail {
    let mails = eventually(
        &format!("mail {n} to {to}"),
        || async { mails_to(app, folder, to) },
        |mails| mails.len() >= n,
    )
    .await;
    mails[n - 1].clone()
}
