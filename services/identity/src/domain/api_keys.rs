//! Integration API keys: `mk_` followed by 256 random bits, shown once, stored as a digest.
//! A key acts with one role, admin or staff, never owner.

use crate::domain::staff::rank;
use mercato_tenant_context::Role;

/// Every key starts with this; the gateway tells keys from access tokens by it.
pub const KEY_PREFIX: &str = "mk_";

/// How many leading characters of a key are kept to recognise it in lists.
pub const DISPLAY_PREFIX_LEN: usize = 10;

/// Keys are 3 + 43 characters; anything much longer is not one of ours.
pub const MAX_KEY_LEN: usize = 128;

/// The role a key acts with, from its code: admin or staff.
pub fn parse_key_role(code: &str) -> Option<Role> {
    match code {
        "admin" => Some(Role::Admin),
        "staff" => Some(Role::Staff),
        _ => None,
    }
}

/// The start of a key, shown in lists so a merchant can tell keys apart.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(DISPLAY_PREFIX_LEN).collect()
}

/// Could `text` be a key at all? Cheap check before any lookup.
pub fn looks_like_key(text: &str) -> bool {
    text.starts_with(KEY_PREFIX) && text.len() <= MAX_KEY_LEN
}

/// A key's label: 1 to 100 characters after trimming.
pub fn parse_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("1-100 characters, no control characters");
    }
    Ok(name.to_owned())
}

/// What becomes of a live key when its creator's standing changes: a key never acts above
/// the person who made it (ADR 0029).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFate {
    Keep,
    /// Cut down to the creator's new role.
    CutTo(Role),
    Revoke,
}

/// The fate of a key acting as `key` whose creator is now `creator` (`None` once removed
/// from the staff). A creator who is no staff any more takes their keys with them; one
/// demoted below the key's role cuts it down to their own.
pub fn key_fate(key: Role, creator: Option<Role>) -> KeyFate {
    match creator {
        Some(creator) if creator.is_staff_role() => {
            if rank(key) <= rank(creator) {
                KeyFate::Keep
            } else if parse_key_role(crate::domain::staff::role_code(creator)).is_some() {
                KeyFate::CutTo(creator)
            } else {
                KeyFate::Revoke
            }
        }
        _ => KeyFate::Revoke,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_act_above_their_creator() {
        use Role::*;
        assert_eq!(key_fate(Admin, Some(Owner)), KeyFate::Keep);
        assert_eq!(key_fate(Admin, Some(Admin)), KeyFate::Keep);
        assert_eq!(key_fate(Staff, Some(Admin)), KeyFate::Keep);
        assert_eq!(key_fate(Staff, Some(Staff)), KeyFate::Keep);
        assert_eq!(key_fate(Admin, Some(Staff)), KeyFate::CutTo(Staff));
        // Removed, or no staff any more: the keys go.
        assert_eq!(key_fate(Admin, None), KeyFate::Revoke);
        assert_eq!(key_fate(Staff, None), KeyFate::Revoke);
        assert_eq!(key_fate(Staff, Some(Customer)), KeyFate::Revoke);
    }

    #[test]
    fn keys_act_as_admin_or_staff_only() {
        assert_eq!(parse_key_role("admin"), Some(Role::Admin));
        assert_eq!(parse_key_role("staff"), Some(Role::Staff));
        assert_eq!(parse_key_role("owner"), None);
        assert_eq!(parse_key_role("customer"), None);
    }

    #[test]
    fn prefixes_and_names() {
        assert_eq!(display_prefix("mk_abcdefghijk"), "mk_abcdefg");
        assert_eq!(display_prefix("mk_"), "mk_");
        assert!(looks_like_key("mk_x") && !looks_like_key("mrt_x"));
        assert!(!looks_like_key(&format!("mk_{}", "a".repeat(200))));
        assert_eq!(parse_name("  CI deploy "), Ok("CI deploy".into()));
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(101)).is_err());
        assert!(parse_name("a\nb").is_err());
    }
}
