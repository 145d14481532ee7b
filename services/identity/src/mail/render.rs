//! A mail as RFC 5322 text: CRLF line ends, ASCII headers (RFC 2047 encoded words for
//! anything else), a UTF-8 plain-text body.

use super::Mail;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// Bytes of UTF-8 per encoded word, so each word stays under the 75-character limit.
const WORD_BYTES: usize = 45;

/// Header values are ours, but an address or a configured sender must never start a new
/// header line.
fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The value as is when it is printable ASCII, else as RFC 2047 `B` encoded words.
fn header_text(value: &str) -> String {
    let value = single_line(value);
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > WORD_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?B?{}?=", B64.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The domain of the sender's address, for the Message-ID.
fn sender_domain(from: &str) -> &str {
    from.rsplit_once('@')
        .map(|(_, domain)| domain.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_graphic() && b != b'>'))
        .unwrap_or("mercato.localhost")
}

pub fn render_eml(mail: &Mail) -> String {
    let mut text = String::new();
    let mut header = |name: &str, value: &str| {
        text.push_str(name);
        text.push_str(": ");
        text.push_str(value);
        text.push_str("\r\n");
    };
    header("From", &header_text(&mail.from));
    header("To", &single_line(&mail.to));
    header("Subject", &header_text(&mail.subject));
    header("Date", &mail.created_at.to_rfc2822());
    header(
        "Message-ID",
        &format!("<{}@{}>", mail.id, sender_domain(&mail.from)),
    );
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "8bit");
    text.push_str("\r\n");
    for line in mail.body.lines() {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Realm;
    use crate::mail::MailId;

    fn mail(subject: &str, to: &str) -> Mail {
        Mail {
            id: MailId::new(),
            realm: Realm::Platform,
            from: "Mercato <no-reply@shops.example>".into(),
            to: to.into(),
            subject: subject.into(),
            body: "line one\nline two\r\n\nlast".into(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn renders_the_headers_a_mail_client_needs() {
        let m = mail("Reset your password", "ada@example.test");
        let text = render_eml(&m);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let names: Vec<&str> = head
            .split("\r\n")
            .map(|l| l.split_once(": ").unwrap().0)
            .collect();
        assert_eq!(
            names,
            [
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "MIME-Version",
                "Content-Type",
                "Content-Transfer-Encoding"
            ]
        );
        assert!(head.contains(&format!("Message-ID: <{}@shops.example>", m.id)));
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(
            chrono::DateTime::parse_from_rfc2822(
                head.split("Date: ")
                    .nth(1)
                    .unwrap()
                    .split("\r\n")
                    .next()
                    .unwrap()
            )
            .is_ok()
        );
        assert_eq!(body, "line one\r\nline two\r\n\r\nlast\r\n");
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
    }

    #[test]
    fn header_injection_and_non_ascii_are_neutralised() {
        let m = mail(
            "Willkommen im Laden – öffnen",
            "x@example.test\r\nBcc: evil@example.test",
        );
        let text = render_eml(&m);
        assert!(!text.contains("\r\nBcc:"), "{text}");
        let subject = text.split("Subject: ").nth(1).unwrap();
        assert!(subject.starts_with("=?utf-8?B?"), "{subject}");
        assert!(text.is_ascii() || text.split("\r\n\r\n").next().unwrap().is_ascii());
        let long = header_text(&"ä".repeat(100));
        assert!(long.split("\r\n ").all(|w| w.len() <= 75), "{long}");
    }
}
