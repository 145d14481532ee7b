//! Roles and the named permissions they grant (RBAC). Handlers ask for a permission,
//! never for a role, so a role's grants can change in one place.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The merchant who owns the shop.
    Owner,
    /// Merchant staff who run the shop.
    Admin,
    /// Merchant staff with day-to-day rights.
    Staff,
    /// A shopper with an account.
    Customer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Change the shop's settings and branding.
    SettingsWrite,
    /// Attach and remove custom domains.
    DomainsManage,
    /// Invite staff and change their roles.
    StaffManage,
    /// See the shop's staff and customers.
    UsersRead,
    /// Create and revoke API keys.
    ApiKeysManage,
    /// Read the shop's plan, limits and feature flags.
    PlanRead,
    /// Accept, approve, reject, suspend vendors; override checklist items; edit any vendor.
    VendorsManage,
    /// See every vendor, whatever its state, with its history and checklist.
    VendorsRead,
    /// Set the shop's commission rules.
    CommissionManage,
    /// The shop's categories and attributes, listing moderation, any vendor's products and stock.
    CatalogManage,
    /// See every order and vendor order of the shop.
    OrdersRead,
    /// Cancel and refund orders, decide returns, manage coupons, taxes and buying settings.
    OrdersManage,
    /// Read the shop's ledger: accounts, journal entries, trial balance.
    LedgerRead,
    /// Start payout runs, mark bank-transfer payouts, set the payout hold.
    PayoutsManage,
    /// Write to the shop's ledger: record and reverse expenses.
    LedgerWrite,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Self::SettingsWrite => "settings:write",
            Self::DomainsManage => "domains:manage",
            Self::StaffManage => "staff:manage",
            Self::UsersRead => "users:read",
            Self::ApiKeysManage => "api_keys:manage",
            Self::PlanRead => "plan:read",
            Self::VendorsManage => "vendors:manage",
            Self::VendorsRead => "vendors:read",
            Self::CommissionManage => "commission:manage",
            Self::CatalogManage => "catalog:manage",
            Self::OrdersRead => "orders:read",
            Self::OrdersManage => "orders:manage",
            Self::LedgerRead => "ledger:read",
            Self::PayoutsManage => "payouts:manage",
            Self::LedgerWrite => "ledger:write",
        }
    }
}

impl Role {
    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => matches!(
                permission,
                SettingsWrite
                    | DomainsManage
                    | StaffManage
                    | UsersRead
                    | ApiKeysManage
                    | PlanRead
                    | VendorsManage
                    | VendorsRead
                    | CommissionManage
                    | CatalogManage
                    | OrdersRead
                    | OrdersManage
                    | LedgerRead
                    | PayoutsManage
                    | LedgerWrite
            ),
            Role::Staff => matches!(permission, UsersRead | PlanRead | VendorsRead | OrdersRead),
            Role::Customer => false,
        }
    }

    /// Roles a merchant may give to invited staff.
    pub fn is_staff_role(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Staff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_and_admins_write_the_ledger() {
        assert_eq!(Permission::LedgerWrite.name(), "ledger:write");
        assert!(Role::Owner.grants(Permission::LedgerWrite));
        assert!(Role::Admin.grants(Permission::LedgerWrite));
        assert!(!Role::Staff.grants(Permission::LedgerWrite));
        assert!(!Role::Customer.grants(Permission::LedgerWrite));
    }
}
