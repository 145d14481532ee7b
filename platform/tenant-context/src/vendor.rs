//! Vendor staff: a shop user may work for one or more of the shop's vendors, each with a
//! vendor-scoped role. Memberships travel in the access token and the signed context, so
//! services scope vendor staff to their vendor without asking identity.

use crate::VendorId;
use mercato_kernel::Problem;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorRole {
    /// Applied for the vendor, or was made owner: everything about the vendor.
    Owner,
    /// Runs the store: profile, listings, stock, staff below manager.
    Manager,
    /// Day-to-day: listings and stock.
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorPermission {
    /// Store profile, checklist items, payout account.
    ProfileWrite,
    /// Invite and remove vendor staff.
    StaffManage,
    /// Products, variants and media.
    ListingsWrite,
    /// Warehouses and stock.
    StockWrite,
    /// See the vendor's own data (history, checklist, commission).
    Read,
    /// Submit the vendor for review and set holiday mode.
    Lifecycle,
    /// Fulfil the vendor's orders: mark them shipped and delivered, decide returns.
    OrdersFulfil,
}

impl VendorPermission {
    pub fn name(self) -> &'static str {
        match self {
            Self::ProfileWrite => "vendor.profile:write",
            Self::StaffManage => "vendor.staff:manage",
            Self::ListingsWrite => "vendor.listings:write",
            Self::StockWrite => "vendor.stock:write",
            Self::Read => "vendor:read",
            Self::Lifecycle => "vendor:lifecycle",
            Self::OrdersFulfil => "vendor.orders:fulfil",
        }
    }
}

impl VendorRole {
    pub fn grants(self, permission: VendorPermission) -> bool {
        use VendorPermission::*;
        match self {
            VendorRole::Owner => true,
            VendorRole::Manager => !matches!(permission, Lifecycle),
            VendorRole::Staff => {
                matches!(permission, ListingsWrite | StockWrite | Read | OrdersFulfil)
            }
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            VendorRole::Owner => "owner",
            VendorRole::Manager => "manager",
            VendorRole::Staff => "staff",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "owner" => Some(VendorRole::Owner),
            "manager" => Some(VendorRole::Manager),
            "staff" => Some(VendorRole::Staff),
            _ => None,
        }
    }

    /// Whether someone with this role may hand out `other` (never above one's own).
    pub fn may_grant(self, other: VendorRole) -> bool {
        match self {
            VendorRole::Owner => true,
            VendorRole::Manager => other != VendorRole::Owner,
            VendorRole::Staff => false,
        }
    }
}

/// One vendor a user works for, and as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VendorMembership {
    pub vendor: VendorId,
    pub role: VendorRole,
}

/// The vendor memberships of a caller, with the checks vendor-scoped handlers need.
pub trait VendorAccess {
    fn memberships(&self) -> &[VendorMembership];

    /// The caller's role at `vendor`, if any.
    fn vendor_role(&self, vendor: VendorId) -> Option<VendorRole> {
        self.memberships()
            .iter()
            .find(|m| m.vendor == vendor)
            .map(|m| m.role)
    }

    /// Whether the caller may do `permission` for `vendor`.
    fn can_for_vendor(&self, vendor: VendorId, permission: VendorPermission) -> bool {
        self.vendor_role(vendor)
            .is_some_and(|role| role.grants(permission))
    }

    /// 404 when the caller is not staff of `vendor` (another vendor's things do not exist for
    /// them), 403 when their vendor role lacks the permission.
    fn require_vendor(
        &self,
        vendor: VendorId,
        permission: VendorPermission,
    ) -> Result<(), Problem> {
        match self.vendor_role(vendor) {
            None => Err(Problem::not_found()),
            Some(role) if role.grants(permission) => Ok(()),
            Some(_) => Err(Problem::forbidden(format!(
                "your vendor role does not grant `{}`",
                permission.name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_down_the_ladder() {
        assert!(VendorRole::Owner.grants(VendorPermission::Lifecycle));
        assert!(!VendorRole::Manager.grants(VendorPermission::Lifecycle));
        assert!(VendorRole::Manager.grants(VendorPermission::StaffManage));
        assert!(!VendorRole::Staff.grants(VendorPermission::ProfileWrite));
        assert!(VendorRole::Staff.grants(VendorPermission::StockWrite));
        assert!(!VendorRole::Manager.may_grant(VendorRole::Owner));
        assert!(VendorRole::Manager.may_grant(VendorRole::Staff));
        assert!(!VendorRole::Staff.may_grant(VendorRole::Staff));
        for role in [VendorRole::Owner, VendorRole::Manager, VendorRole::Staff] {
            assert_eq!(VendorRole::parse(role.code()), Some(role));
        }
    }
}
