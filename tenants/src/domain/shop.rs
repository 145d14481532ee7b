//! A shop: the tenant. Its slug names its platform subdomain (`<slug>.<platform domain>`).

use super::plan::Plan;
use mercato_kernel::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShopStatus {
    Active,
    /// The shop's domains answer 503; its data is kept.
    Suspended,
}

impl ShopStatus {
    pub fn code(self) -> &'static str {
        match self {
            ShopStatus::Active => "active",
            ShopStatus::Suspended => "suspended",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "active" => Some(ShopStatus::Active),
            "suspended" => Some(ShopStatus::Suspended),
            _ => None,
        }
    }
}

/// Slugs that would shadow platform hosts.
const RESERVED_SLUGS: &[&str] = &[
    "platform", "www", "api", "admin", "app", "mail", "status", "docs",
];

pub fn check_slug(slug: &str) -> Result<(), &'static str> {
    let ok_chars = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !(3..=40).contains(&slug.len()) || !ok_chars || slug.starts_with('-') || slug.ends_with('-')
    {
        return Err("3-40 lowercase letters, digits or inner hyphens");
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Err("is reserved by the platform");
    }
    Ok(())
}

pub fn check_name(name: &str) -> Result<(), &'static str> {
    let len = name.trim().chars().count();
    if len == 0 || len > 100 || name.chars().any(char::is_control) {
        return Err("1-100 characters, no control characters");
    }
    Ok(())
}

/// A BCP 47 tag of the common shape: `en`, `de-DE`, `pt-BR`.
pub fn check_locale(locale: &str) -> Result<(), &'static str> {
    let (lang, region) = locale
        .split_once('-')
        .map_or((locale, None), |(l, r)| (l, Some(r)));
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok =
        region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()));
    if lang_ok && region_ok {
        Ok(())
    } else {
        Err("a language tag like en, de-DE or pt-BR")
    }
}

/// An IANA time zone name of the usual shape (`UTC`, `Europe/Berlin`,
/// `America/Argentina/Buenos_Aires`). The tz database itself is not bundled; see the ADR.
pub fn check_timezone(tz: &str) -> Result<(), &'static str> {
    if tz == "UTC" {
        return Ok(());
    }
    let parts: Vec<&str> = tz.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && p.len() <= 30
            && p.starts_with(|c: char| c.is_ascii_uppercase())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'+')
    };
    if (2..=3).contains(&parts.len()) && parts.iter().all(part_ok) {
        Ok(())
    } else {
        Err("an IANA time zone like Europe/Berlin or UTC")
    }
}

/// `#rrggbb`.
pub fn check_colour(colour: &str) -> Result<(), &'static str> {
    let hex = colour.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("a colour like #1a2b3c")
    }
}

/// A plausible email address: one `@`, a dotted domain, no spaces. Delivery proves the rest.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err("an email address like name@example.com");
    };
    let ok = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
        && super::hostname::Hostname::parse(domain).is_ok();
    if ok {
        Ok(())
    } else {
        Err("an email address like name@example.com")
    }
}

/// A request to open a shop, checked field by field.
pub struct NewShop {
    pub name: String,
    pub slug: String,
    pub currency: Currency,
    pub locale: String,
    pub timezone: String,
    pub plan: Plan,
}

pub use mercato_kernel::Checks;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("acme").is_ok());
        assert!(check_slug("acme-2").is_ok());
        for bad in [
            "ab",
            "Acme",
            "-acme",
            "acme-",
            "ac me",
            "platform",
            &"a".repeat(41),
        ] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locales_timezones_colours_emails() {
        assert!(check_locale("de-DE").is_ok() && check_locale("en").is_ok());
        assert!(check_locale("de_DE").is_err() && check_locale("EN").is_err());
        assert!(
            check_timezone("Europe/Berlin").is_ok()
                && check_timezone("America/Argentina/Buenos_Aires").is_ok()
        );
        assert!(check_timezone("Berlin").is_err() && check_timezone("europe/berlin").is_err());
        assert!(check_colour("#1A2b3c").is_ok() && check_colour("1a2b3c").is_err());
        assert!(check_email("owner@acme.localhost").is_ok());
        for bad in ["owner", "@x.com", "a b@x.com", "a@b", "a@@b.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}

/// A shop as the rest of the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    pub tenant: mercato_tenant_context::TenantId,
    pub slug: String,
    pub name: String,
    pub status: ShopStatus,
    pub status_reason: Option<String>,
    pub plan: Plan,
    pub currency: Currency,
    pub locale: String,
    pub timezone: String,
    pub branding: Branding,
    pub support_email: Option<String>,
    pub feature_overrides: std::collections::BTreeMap<String, bool>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Branding {
    /// The name shown to shoppers; the shop's name when unset.
    pub name: Option<String>,
    pub primary_colour: Option<String>,
    pub accent_colour: Option<String>,
}

impl Shop {
    pub fn open(new: NewShop, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            tenant: mercato_tenant_context::TenantId::new(),
            slug: new.slug,
            name: new.name.trim().to_owned(),
            status: ShopStatus::Active,
            status_reason: None,
            plan: new.plan,
            currency: new.currency,
            locale: new.locale,
            timezone: new.timezone,
            branding: Branding::default(),
            support_email: None,
            feature_overrides: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn features(&self) -> std::collections::BTreeMap<String, bool> {
        self.plan.features(&self.feature_overrides)
    }
}
