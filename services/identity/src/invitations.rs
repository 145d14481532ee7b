//! Issuing a staff invitation — by a merchant, or by the platform when a shop is created
//! with an owner's email. The token, its mail and the `staff.invited` event are written in
//! the caller's transaction.

use crate::domain::Email;
use crate::domain::one_time::Purpose;
use crate::domain::staff::Seats;
use crate::mail::{self, MailId, letters};
use crate::repo::one_time::{self, NewToken, OneTimeToken};
use crate::repo::users;
use mercato_db::TenantTx;
use mercato_tenant_context::Role;
use sea_orm::DbErr;

pub struct Invite<'a> {
    pub email: &'a Email,
    pub role: Role,
    /// `usr_…`/`key_…` of the inviter; `None` when the platform invites.
    pub created_by: Option<String>,
    /// The plan's staff seats, or `None` not to check (the first owner of a new shop).
    pub seat_limit: Option<u32>,
    /// The shop's name or slug for the mail, when known.
    pub shop: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("an active staff account has this email")]
    AlreadyStaff,
    #[error("an invitation for this email is pending")]
    AlreadyInvited,
    #[error("the plan allows {limit} staff seat(s), invitations included")]
    NoSeat { limit: u32 },
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub struct Issued {
    pub invitation: OneTimeToken,
    pub mail: MailId,
}

pub async fn issue(tx: &TenantTx, invite: Invite<'_>) -> Result<Issued, InviteError> {
    // Seat counts and duplicate checks hold only while no other staff change interleaves.
    users::lock_staff(tx).await?;
    let existing = users::find_by_email(tx, invite.email).await?;
    if existing.is_some_and(|u| u.active && u.role.staff_role().is_some()) {
        return Err(InviteError::AlreadyStaff);
    }
    if one_time::pending_invitation_for(tx, invite.email.as_str()).await? {
        return Err(InviteError::AlreadyInvited);
    }
    if let Some(limit) = invite.seat_limit {
        let seats = Seats {
            active_staff: users::count_active_staff(tx).await?,
            pending_invitations: one_time::count_pending_invitations(tx).await?,
        };
        if !seats.allow_one_more(limit) {
            return Err(InviteError::NoSeat { limit });
        }
    }
    let secret = mercato_auth::OpaqueSecret::generate(Purpose::Invitation.secret_prefix());
    let invitation = one_time::insert(
        tx,
        NewToken {
            id: None,
            purpose: Purpose::Invitation,
            email: invite.email.as_str(),
            role: Some(invite.role),
            user: None,
            digest: &secret.digest,
            created_by: invite.created_by,
        },
    )
    .await?;
    let letter = letters::invitation(invite.role, &secret.text, invite.shop);
    let mail = mail::queue(tx, invite.email.as_str(), &letter.subject, &letter.body).await?;
    crate::events::staff_invited(&**tx, tx.tenant(), &invitation).await?;
    Ok(Issued { invitation, mail })
}
