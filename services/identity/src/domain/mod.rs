//! Identity rules: realms, accounts, credentials, staff roles and seats, one-time tokens,
//! API keys. No database, no HTTP.

pub mod api_keys;
pub mod backoff;
pub mod one_time;
pub mod staff;

use mercato_tenant_context::{Role, Scope, TenantId};

/// Whose accounts: one shop's, or the platform's administrators. The same email in two
/// realms is two unrelated accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    Shop(TenantId),
    Platform,
}

impl Realm {
    /// The key the realm's rows are stored under. Platform admins live under the nil id,
    /// which no shop can have (shop ids are UUIDv7).
    pub fn storage_tenant(self) -> TenantId {
        match self {
            Realm::Shop(tenant) => tenant,
            Realm::Platform => TenantId::from_uuid(uuid::Uuid::nil()),
        }
    }

    /// Where this realm's mail is filed: the shop's id, or `platform`.
    pub fn mail_folder(self) -> String {
        match self {
            Realm::Shop(tenant) => tenant.to_string(),
            Realm::Platform => "platform".to_owned(),
        }
    }

    /// The realm whose rows are stored under `tenant`.
    pub fn of_storage(tenant: TenantId) -> Self {
        if tenant.as_uuid().is_nil() {
            Realm::Platform
        } else {
            Realm::Shop(tenant)
        }
    }

    pub fn scope(self) -> Scope {
        match self {
            Realm::Shop(tenant) => Scope::Shop(tenant),
            Realm::Platform => Scope::Platform,
        }
    }
}

impl From<Scope> for Realm {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Shop(tenant) => Realm::Shop(tenant),
            Scope::Platform => Realm::Platform,
        }
    }
}

/// An account's role as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    Shop(Role),
    PlatformAdmin,
}

impl AccountRole {
    pub fn code(self) -> &'static str {
        match self {
            AccountRole::Shop(Role::Owner) => "owner",
            AccountRole::Shop(Role::Admin) => "admin",
            AccountRole::Shop(Role::Staff) => "staff",
            AccountRole::Shop(Role::Customer) => "customer",
            AccountRole::PlatformAdmin => "platform_admin",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "owner" => AccountRole::Shop(Role::Owner),
            "admin" => AccountRole::Shop(Role::Admin),
            "staff" => AccountRole::Shop(Role::Staff),
            "customer" => AccountRole::Shop(Role::Customer),
            "platform_admin" => AccountRole::PlatformAdmin,
            _ => return None,
        })
    }

    /// The shop role, if this is a merchant staff account (owner, admin or staff).
    pub fn staff_role(self) -> Option<Role> {
        match self {
            AccountRole::Shop(role) if role.is_staff_role() => Some(role),
            _ => None,
        }
    }

    /// Roles carried in the access token.
    pub fn roles(self) -> Vec<Role> {
        match self {
            AccountRole::Shop(role) => vec![role],
            AccountRole::PlatformAdmin => Vec::new(),
        }
    }
}

/// An email address, trimmed and lowercased: the account's login name within its realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let email = input.trim().to_ascii_lowercase();
        let Some((local, domain)) = email.split_once('@') else {
            return Err("an email address like name@example.com");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if domain_ok && local_ok && email.len() <= 254 {
            Ok(Self(email))
        } else {
            Err("an email address like name@example.com")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passwords: at least 10 characters, at most 128 (argon2 cost is per byte of input too).
pub fn check_password(password: &str) -> Result<(), &'static str> {
    match password.chars().count() {
        0..=9 => Err("at least 10 characters"),
        129.. => Err("at most 128 characters"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            Email::parse(" Shopper@ACME.localhost ").map(|e| e.0),
            Ok("shopper@acme.localhost".into())
        );
        for bad in ["shopper", "a@b", "a b@x.com", "@x.com", "a@x..com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platform_realm_cannot_collide_with_a_shop() {
        let shop = TenantId::new();
        assert_ne!(
            Realm::Platform.storage_tenant(),
            Realm::Shop(shop).storage_tenant()
        );
        for realm in [Realm::Platform, Realm::Shop(shop)] {
            assert_eq!(Realm::of_storage(realm.storage_tenant()), realm);
        }
        assert_eq!(Realm::Platform.mail_folder(), "platform");
        assert!(Realm::Shop(shop).mail_folder().starts_with("shop_"));
    }

    #[test]
    fn roles_round_trip() {
        for code in ["owner", "admin", "staff", "customer", "platform_admin"] {
            assert_eq!(AccountRole::parse(code).map(AccountRole::code), Some(code));
        }
        assert!(check_password("short").is_err() && check_password("long enough!").is_ok());
    }
}
