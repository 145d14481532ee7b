//! What the mails say. Each carries its one-time secret in the body and nowhere else.

use crate::domain::staff::role_code;
use mercato_tenant_context::Role;

pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// An invitation to join a shop's staff. `shop` names the shop when the caller knows it.
pub fn invitation(role: Role, token: &str, shop: Option<&str>) -> Letter {
    let role = role_code(role);
    let place = shop.map_or_else(|| "a shop".to_owned(), |s| format!("the shop {s}"));
    let subject = match shop {
        Some(s) => format!("You are invited to run {s} on Mercato"),
        None => "You are invited to join a shop's team on Mercato".to_owned(),
    };
    let body = format!(
        "Hello,

you have been invited to join {place} on Mercato as {role}.

Your invitation code:

    {token}

To accept, send it within 7 days to POST /api/v1/auth/invitations/accept on the shop's
domain, as {{\"token\": \"<code>\", \"password\": \"<password>\"}}. If you have an account in
this shop with this email already, give its current password; otherwise choose a new one
(at least 10 characters).

If you did not expect this invitation, ignore this mail.
"
    );
    Letter { subject, body }
}

/// An invitation to work for one of the shop's vendors.
pub fn vendor_invitation(role: &str, token: &str) -> Letter {
    let body = format!(
        "Hello,

you have been invited to work for a vendor of this shop on Mercato, as {role}.

Your invitation code:

    {token}

To accept, send it within 7 days to POST /api/v1/auth/vendor-invitations/accept on the
shop's domain, as {{\"token\": \"<code>\", \"password\": \"<password>\"}}. If you have an
account in this shop with this email already, give its current password; otherwise choose
a new one (at least 10 characters).

If you did not expect this invitation, ignore this mail.
"
    );
    Letter {
        subject: "You are invited to work for a vendor on Mercato".to_owned(),
        body,
    }
}

pub fn password_reset(token: &str) -> Letter {
    Letter {
        subject: "Reset your Mercato password".to_owned(),
        body: format!(
            "Hello,

someone asked to reset the password of the account with this email address.

Your reset code:

    {token}

To choose a new password, send it within 1 hour to POST /api/v1/auth/password-reset/confirm,
as {{\"token\": \"<code>\", \"password\": \"<new password>\"}}. It works once. Every
session of the account ends when the password changes.

If you did not ask for this, ignore this mail: your password stays as it is.
"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_carry_the_code_in_the_body_only() {
        let letter = invitation(Role::Admin, "mit_secret", Some("acme"));
        assert!(letter.body.contains("mit_secret") && letter.body.contains("as admin"));
        assert!(!letter.subject.contains("mit_secret"));
        assert!(letter.subject.contains("acme"));
        let reset = password_reset("mpr_secret");
        assert!(reset.body.contains("mpr_secret") && !reset.subject.contains("mpr_"));
    }
}
