//! What identity lets other crates depend on (ADR 0028): the payloads of the events others
//! consume, as identity publishes them and as a consumer reads them back. No database, no
//! HTTP server, no I/O: a consumer depends on this crate, never on `mercato-identity`.

use mercato_tenant_context::{UserId, VendorId};
use serde::{Deserialize, Serialize};

/// `user.sessions_revoked` ([`SessionsRevoked`], version 1): the account's access tokens
/// issued before `session_epoch` are no longer good (the gateway consumes it to refuse them
/// at once; ADR 0029).
pub const SESSIONS_REVOKED: &str = "user.sessions_revoked";
/// `vendor_staff.removed` ([`VendorStaffRemoved`], version 1): someone left a vendor's staff
/// (the vendors service ends an applicant's standing as owner).
pub const VENDOR_STAFF_REMOVED: &str = "vendor_staff.removed";

/// The payload of [`SESSIONS_REVOKED`]. The envelope's tenant is the realm's storage tenant:
/// the shop, or the nil id for platform admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsRevoked {
    pub user_id: UserId,
    pub session_epoch: u64,
    /// False once the account is disabled (removed from the staff): none of its tokens is
    /// good any more, whatever their epoch.
    pub active: bool,
    /// removed, role_changed, vendor_membership_changed, password_changed, password_reset.
    pub reason: String,
}

/// The payload of [`VENDOR_STAFF_REMOVED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorStaffRemoved {
    pub vendor_id: VendorId,
    pub user_id: UserId,
    /// The role they had (`owner`, `manager`, `staff`).
    pub role: String,
    /// `usr_…` or `key_…`; null when the platform acted.
    #[serde(default)]
    pub removed_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_published() {
        let removed = VendorStaffRemoved {
            vendor_id: VendorId::new(),
            user_id: UserId::new(),
            role: "staff".into(),
            removed_by: Some("usr_x".into()),
        };
        let payload = serde_json::to_value(&removed).unwrap();
        assert_eq!(payload["role"], "staff");
        assert_eq!(
            serde_json::from_value::<VendorStaffRemoved>(payload).unwrap(),
            removed
        );
        let revoked = SessionsRevoked {
            user_id: UserId::new(),
            session_epoch: 3,
            active: true,
            reason: "role_changed".into(),
        };
        let payload = serde_json::to_value(&revoked).unwrap();
        assert_eq!(
            serde_json::from_value::<SessionsRevoked>(payload).unwrap(),
            revoked
        );
    }
}
