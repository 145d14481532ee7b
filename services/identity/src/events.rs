//! Events the identity service publishes (all version 1): `user.registered`,
//! `user.password_reset`, `user.sessions_revoked`, `staff.invited`, `staff.joined`,
//! `staff.role_changed`, `staff.removed`, `api_key.created`, `api_key.revoked`,
//! `api_key.role_changed`. None carries a secret.
//!
//! It consumes `shop.created` as the durable consumer [`OWNER_INVITES`]: a shop created with
//! an owner's email gets an owner invitation; and `vendor.applied` as [`VENDOR_MEMBERS`]: the
//! applicant becomes the new vendor's owner, carried in their next access token.

use crate::IdentityState;
use crate::domain::staff::role_code;
use crate::domain::{Email, Realm};
use crate::invitations::{self, Invite, InviteError};
use crate::repo::api_keys::ApiKey;
use crate::repo::one_time::OneTimeToken;
use crate::repo::users::User;
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, publish};
use mercato_tenant_context::{ApiKeyId, Role, TenantId, UserId, VendorRole};
use mercato_tenants_api::{SHOP_CREATED, ShopChanged};
use mercato_vendors_api::vendor::{VENDOR_APPLIED, VendorSnapshot};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

#[derive(Serialize)]
struct UserRegistered<'a> {
    user_id: UserId,
    email: &'a str,
    role: &'a str,
}

pub async fn user_registered(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: &User,
) -> Result<(), DbErr> {
    let payload = UserRegistered {
        user_id: user.id,
        email: &user.email,
        role: user.role.code(),
    };
    publish(conn, "user.registered", tenant, &payload).await
}

pub async fn user_password_reset(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
) -> Result<(), DbErr> {
    publish(
        conn,
        "user.password_reset",
        tenant,
        &serde_json::json!({ "user_id": user }),
    )
    .await
}

// The payloads others consume are the contract crate's.
pub use mercato_identity_api::{
    SESSIONS_REVOKED, SessionsRevoked, VENDOR_STAFF_REMOVED, VendorStaffRemoved,
};

pub async fn user_sessions_revoked(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    payload: &SessionsRevoked,
) -> Result<(), DbErr> {
    publish(conn, SESSIONS_REVOKED, tenant, payload).await
}

pub async fn staff_invited(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    invitation: &OneTimeToken,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "invitation_id": crate::domain::one_time::InvitationId::from_uuid(invitation.id),
        "email": invitation.email,
        "role": invitation.role.map(role_code),
        "invited_by": invitation.created_by,
        "expires_at": invitation.expires_at,
    });
    publish(conn, "staff.invited", tenant, &payload).await
}

pub async fn staff_joined(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    role: Role,
    invitation: &OneTimeToken,
    existing_account: bool,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "user_id": user,
        "role": role_code(role),
        "invitation_id": crate::domain::one_time::InvitationId::from_uuid(invitation.id),
        "existing_account": existing_account,
    });
    publish(conn, "staff.joined", tenant, &payload).await
}

pub async fn staff_role_changed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    from: Role,
    to: Role,
    changed_by: Option<String>,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "user_id": user, "from": role_code(from), "to": role_code(to), "changed_by": changed_by,
    });
    publish(conn, "staff.role_changed", tenant, &payload).await
}

pub async fn staff_removed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    role: Role,
    removed_by: Option<String>,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "user_id": user, "role": role_code(role), "removed_by": removed_by,
    });
    publish(conn, "staff.removed", tenant, &payload).await
}

pub async fn api_key_created(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    key: &ApiKey,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "key_id": key.id, "name": key.name, "role": role_code(key.role),
        "prefix": key.prefix, "created_by": key.created_by,
    });
    publish(conn, "api_key.created", tenant, &payload).await
}

pub async fn api_key_revoked(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    key: ApiKeyId,
    revoked_by: Option<String>,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({ "key_id": key, "revoked_by": revoked_by });
    publish(conn, "api_key.revoked", tenant, &payload).await
}

pub async fn api_key_role_changed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    key: ApiKeyId,
    from: Role,
    to: Role,
    changed_by: Option<String>,
) -> Result<(), DbErr> {
    let payload = serde_json::json!({
        "key_id": key, "from": role_code(from), "to": role_code(to), "changed_by": changed_by,
    });
    publish(conn, "api_key.role_changed", tenant, &payload).await
}

/// The durable consumer that invites the owners of new shops.
pub const OWNER_INVITES: &str = "identity-owner-invites";
pub const OWNER_INVITES_PATTERNS: &[&str] = &[SHOP_CREATED];

/// Invites the owner named in `shop.created`, once per event (inbox), with the mail in the
/// same transaction. It never publishes on the bus itself: `staff.invited` goes to the outbox.
pub struct OwnerInvites(pub IdentityState);

#[async_trait]
impl Handler for OwnerInvites {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let shop: ShopChanged = event.payload_as()?;
        let Some(owner_email) = shop.owner_email else {
            return Ok(());
        };
        if shop.shop_id != event.tenant_id {
            tracing::warn!(tenant_id = %event.tenant_id, event_id = %event.id, "shop.created names another shop than its envelope; ignored");
            return Ok(());
        }
        let Ok(email) = Email::parse(&owner_email) else {
            tracing::warn!(tenant_id = %event.tenant_id, event_id = %event.id, "shop.created has an invalid owner email; no invitation");
            return Ok(());
        };
        let state = &self.0;
        let tx = state
            .db
            .tenant_tx(Realm::Shop(shop.shop_id).storage_tenant())
            .await?;
        if !mercato_events::mark_processed(&*tx, OWNER_INVITES, event).await? {
            return Ok(());
        }
        let invite = Invite {
            email: &email,
            role: Role::Owner,
            created_by: None,
            seat_limit: None,
            shop: Some(shop.slug.as_str()),
        };
        let mail = match invitations::issue(&tx, invite).await {
            Ok(issued) => Some(issued.mail),
            Err(InviteError::Db(e)) => return Err(e.into()),
            Err(refusal) => {
                // Keep the inbox record: redelivery would be refused the same way.
                tracing::info!(tenant_id = %shop.shop_id, reason = %refusal, "no owner invitation for the new shop");
                None
            }
        };
        tx.commit().await?;
        state.outbox.notify_one();
        if let Some(mail) = mail {
            state.mail.dispatch(shop.shop_id, vec![mail]);
        }
        Ok(())
    }
}

/// The durable consumer that records vendor owners.
pub const VENDOR_MEMBERS: &str = "identity-vendor-members";
pub const VENDOR_MEMBERS_PATTERNS: &[&str] = &[VENDOR_APPLIED];

/// Makes the applicant the owner of the vendor they applied for, once per event (inbox).
pub struct VendorMembers(pub IdentityState);

#[async_trait]
impl Handler for VendorMembers {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let applied: VendorSnapshot = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, VENDOR_MEMBERS, event).await? {
            return Ok(());
        }
        // The tenant transaction sees only this shop's users: an id from elsewhere is unknown.
        if crate::repo::users::find(&tx, applied.owner_user_id)
            .await?
            .is_none()
        {
            tracing::warn!(tenant_id = %event.tenant_id, event_id = %event.id, "vendor.applied names no user of this shop; ignored");
            tx.commit().await?;
            return Ok(());
        }
        crate::repo::vendor_members::upsert(
            &tx,
            applied.owner_user_id,
            applied.vendor_id,
            VendorRole::Owner,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
