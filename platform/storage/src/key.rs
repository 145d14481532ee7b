//! Object keys. Every object lives under its shop's prefix, then under its owner (the shop
//! itself or one of its vendors), then under an area naming what kind of thing it is:
//!
//! ```text
//! shops/<shop_…>/vendors/<ven_… | shop>/<area>/<name>
//! ```
//!
//! A key is built only by [`ObjectKey::new`] / [`ObjectKey::unique`] from a [`TenantId`], or
//! read back with [`ObjectKey::parse`], which checks the key belongs to the tenant the caller
//! names. The depth is fixed and every component is checked, so a key for one shop can never
//! reach outside that shop's prefix (no `..`, no `/` inside a component, nothing hidden).

use mercato_kernel::Problem;
use mercato_kernel::id::IdParseError;
use mercato_tenant_context::{TenantId, VendorId};
use std::fmt;

const SHOPS: &str = "shops";
const VENDORS: &str = "vendors";
/// The owner component of the shop's own objects (not any vendor's).
const SHOP_OWNER: &str = "shop";
/// Longest area or name, in bytes; a whole key then stays far below S3's 1024-byte limit.
pub const MAX_COMPONENT_LEN: usize = 200;

/// Who inside the shop an object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The shop itself (reports, the shop's logo, …).
    Shop,
    /// One of the shop's vendors (their listings' images, statements, …).
    Vendor(VendorId),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Shop => f.write_str(SHOP_OWNER),
            Owner::Vendor(vendor) => vendor.fmt(f),
        }
    }
}

/// Which part of a key is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Area,
    Name,
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Component::Area => "area",
            Component::Name => "name",
        })
    }
}

/// Why a key cannot be built or read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("object key {0} is empty")]
    Empty(Component),
    #[error("object key {0} is longer than {MAX_COMPONENT_LEN} bytes")]
    TooLong(Component),
    #[error(
        "object key {0} may hold only ASCII letters, digits, `-`, `_` and `.`, and may not start with `.`"
    )]
    InvalidCharacter(Component),
    #[error("not an object key of the form shops/<shop>/vendors/<vendor or shop>/<area>/<name>")]
    Malformed,
    #[error("object key names an invalid id")]
    InvalidId(#[source] IdParseError),
    /// The key is well formed but under another shop's prefix.
    #[error("object key belongs to another shop")]
    OtherTenant,
}

impl KeyError {
    /// The response for a key that came from a client in `field`: another shop's key is a
    /// 404 like any other shop's resource (DESIGN.md §3, rule 5); a malformed one is a 422.
    pub fn to_problem(&self, field: &str) -> Problem {
        match self {
            KeyError::OtherTenant => Problem::not_found(),
            other => Problem::invalid_field(field, other.to_string()),
        }
    }
}

/// Where an object lives: `shops/<shop_…>/vendors/<ven_… | shop>/<area>/<name>`.
///
/// There is deliberately no `FromStr` or `Deserialize`: a key read from a database column
/// or a request goes through [`ObjectKey::parse`], which names the tenant it must belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    text: String,
    tenant: TenantId,
    owner: Owner,
    /// Byte offsets of the area and the name inside `text`.
    area_at: usize,
    name_at: usize,
}

impl ObjectKey {
    /// The key of the object `name` in `area`, e.g. `("products", "0190…-cover.jpg")`.
    pub fn new(tenant: TenantId, owner: Owner, area: &str, name: &str) -> Result<Self, KeyError> {
        check_component(Component::Area, area)?;
        check_component(Component::Name, name)?;
        let prefix = format!("{SHOPS}/{tenant}/{VENDORS}/{owner}/");
        let area_at = prefix.len();
        let name_at = area_at + area.len() + 1;
        Ok(Self {
            text: format!("{prefix}{area}/{name}"),
            tenant,
            owner,
            area_at,
            name_at,
        })
    }

    /// A key in `area` whose name is a fresh UUIDv7 followed by `.<extension>` when one is
    /// given (`MediaType::extension`), so names sort by creation time.
    pub fn unique(
        tenant: TenantId,
        owner: Owner,
        area: &str,
        extension: Option<&str>,
    ) -> Result<Self, KeyError> {
        let id = uuid::Uuid::now_v7();
        let name = match extension {
            Some(extension) => format!("{id}.{extension}"),
            None => id.to_string(),
        };
        Self::new(tenant, owner, area, &name)
    }

    /// Reads back a key that was stored as text, accepting it only if it lies under
    /// `tenant`'s prefix ([`KeyError::OtherTenant`] otherwise).
    pub fn parse(tenant: TenantId, text: &str) -> Result<Self, KeyError> {
        let key = Self::parse_any_tenant(text)?;
        if key.tenant != tenant {
            return Err(KeyError::OtherTenant);
        }
        Ok(key)
    }

    /// Reads a key of any tenant; [`ObjectKey::parse`] then checks whose it is.
    fn parse_any_tenant(text: &str) -> Result<Self, KeyError> {
        let parts: Vec<&str> = text.split('/').collect();
        let [shops, tenant, vendors, owner, area, name] = parts.as_slice() else {
            return Err(KeyError::Malformed);
        };
        if *shops != SHOPS || *vendors != VENDORS {
            return Err(KeyError::Malformed);
        }
        let tenant: TenantId = tenant.parse().map_err(KeyError::InvalidId)?;
        let owner = if *owner == SHOP_OWNER {
            Owner::Shop
        } else {
            Owner::Vendor(owner.parse().map_err(KeyError::InvalidId)?)
        };
        let key = Self::new(tenant, owner, area, name)?;
        // The canonical form must be the text itself (ids are printed one way only).
        if key.text != text {
            return Err(KeyError::Malformed);
        }
        Ok(key)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn owner(&self) -> Owner {
        self.owner
    }

    pub fn area(&self) -> &str {
        &self.text[self.area_at..self.name_at - 1]
    }

    pub fn name(&self) -> &str {
        &self.text[self.name_at..]
    }

    /// The key without its name (`shops/…/<area>`), as a relative path.
    pub(crate) fn parent(&self) -> &str {
        &self.text[..self.name_at - 1]
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Areas and names: 1 to [`MAX_COMPONENT_LEN`] bytes of `[A-Za-z0-9._-]`, not starting with
/// `.` (which rules out `.` and `..`, and leaves dot-names to the local backend's sidecars).
fn check_component(component: Component, text: &str) -> Result<(), KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty(component));
    }
    if text.len() > MAX_COMPONENT_LEN {
        return Err(KeyError::TooLong(component));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if text.starts_with('.') || !text.bytes().all(allowed) {
        return Err(KeyError::InvalidCharacter(component));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_under_its_shop_and_owner() {
        let tenant = TenantId::new();
        let vendor = VendorId::new();
        let key = ObjectKey::new(tenant, Owner::Vendor(vendor), "products", "cover.jpg").unwrap();
        assert_eq!(
            key.as_str(),
            format!("shops/{tenant}/vendors/{vendor}/products/cover.jpg")
        );
        assert_eq!(key.tenant(), tenant);
        assert_eq!(key.owner(), Owner::Vendor(vendor));
        assert_eq!(key.area(), "products");
        assert_eq!(key.name(), "cover.jpg");
        assert_eq!(
            key.parent(),
            format!("shops/{tenant}/vendors/{vendor}/products")
        );

        let own = ObjectKey::new(tenant, Owner::Shop, "reports", "sales-2026-11.pdf").unwrap();
        assert_eq!(
            own.to_string(),
            format!("shops/{tenant}/vendors/shop/reports/sales-2026-11.pdf")
        );
    }

    #[test]
    fn unique_keys_differ_and_carry_the_extension() {
        let tenant = TenantId::new();
        let a = ObjectKey::unique(tenant, Owner::Shop, "reports", Some("pdf")).unwrap();
        let b = ObjectKey::unique(tenant, Owner::Shop, "reports", None).unwrap();
        assert_ne!(a, b);
        assert!(a.name().ends_with(".pdf"));
        assert_eq!(b.name().len(), 36, "a hyphenated uuid");
        assert!(ObjectKey::unique(tenant, Owner::Shop, "../x", None).is_err());
    }

    #[test]
    fn components_that_could_escape_or_confuse_are_refused() {
        let tenant = TenantId::new();
        let bad = [
            ("", KeyError::Empty(Component::Name)),
            ("..", KeyError::InvalidCharacter(Component::Name)),
            (".", KeyError::InvalidCharacter(Component::Name)),
            (".hidden", KeyError::InvalidCharacter(Component::Name)),
            ("a/b", KeyError::InvalidCharacter(Component::Name)),
            (
                "../../etc/passwd",
                KeyError::InvalidCharacter(Component::Name),
            ),
            ("a\\b", KeyError::InvalidCharacter(Component::Name)),
            ("with space", KeyError::InvalidCharacter(Component::Name)),
            ("naïve.jpg", KeyError::InvalidCharacter(Component::Name)),
            ("a%2fb", KeyError::InvalidCharacter(Component::Name)),
            ("nul\0", KeyError::InvalidCharacter(Component::Name)),
        ];
        for (name, error) in bad {
            assert_eq!(
                ObjectKey::new(tenant, Owner::Shop, "media", name),
                Err(error),
                "{name:?}"
            );
        }
        assert_eq!(
            ObjectKey::new(tenant, Owner::Shop, "..", "x"),
            Err(KeyError::InvalidCharacter(Component::Area))
        );
        let long = "a".repeat(MAX_COMPONENT_LEN + 1);
        assert_eq!(
            ObjectKey::new(tenant, Owner::Shop, "media", &long),
            Err(KeyError::TooLong(Component::Name))
        );
        let longest = "a".repeat(MAX_COMPONENT_LEN);
        assert!(ObjectKey::new(tenant, Owner::Shop, "media", &longest).is_ok());
        assert!(ObjectKey::new(tenant, Owner::Shop, "media", "v1.2_final-B.PNG").is_ok());
    }

    #[test]
    fn a_key_parses_back_only_for_its_own_shop() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let key = ObjectKey::new(a, Owner::Vendor(VendorId::new()), "products", "x.png").unwrap();
        assert_eq!(ObjectKey::parse(a, key.as_str()), Ok(key.clone()));
        assert_eq!(
            ObjectKey::parse(b, key.as_str()),
            Err(KeyError::OtherTenant)
        );
        assert_eq!(
            KeyError::OtherTenant.to_problem("key").status.as_u16(),
            404,
            "another shop's object is not found, not forbidden"
        );
    }

    #[test]
    fn text_that_is_not_a_key_is_refused() {
        let tenant = TenantId::new();
        let vendor = VendorId::new();
        let bad = [
            String::new(),
            "shops".to_owned(),
            format!("shops/{tenant}/vendors/shop/media"),
            format!("shops/{tenant}/vendors/shop/media/x/y"),
            format!("/shops/{tenant}/vendors/shop/media/x"),
            format!("shops/{tenant}/vendors/shop/media/x/"),
            format!("tenants/{tenant}/vendors/shop/media/x"),
            format!("shops/{tenant}/owners/shop/media/x"),
            format!("shops/{tenant}/vendors/shop/../x"),
            format!("shops/{tenant}/vendors/shop/media/.."),
            format!("shops/{tenant}/vendors/{tenant}/media/x"),
            format!("shops/{vendor}/vendors/shop/media/x"),
            format!("shops/{tenant}/vendors/SHOP/media/x"),
            format!(
                "shops/{}/vendors/shop/media/x",
                tenant.to_string().to_uppercase()
            ),
            "shops/shop_x/vendors/shop/media/x".to_owned(),
        ];
        for text in bad {
            let error = ObjectKey::parse(tenant, &text).unwrap_err();
            assert_ne!(error, KeyError::OtherTenant, "{text}");
            assert_eq!(error.to_problem("key").status.as_u16(), 422, "{text}");
        }
    }
}
