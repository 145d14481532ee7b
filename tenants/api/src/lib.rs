//! What the tenants service lets other crates depend on (ADR 0028): the payloads of its
//! `shop.*` and `domain.*` events, as it publishes them and as a consumer reads them back.
//! No database, no HTTP server, no I/O: a consumer depends on this crate, never on
//! `mercato-tenants` itself.

use mercato_tenant_context::TenantId;
use serde::{Deserialize, Serialize};

/// A shop opened ([`ShopChanged`] with the owner's email when one was named).
pub const SHOP_CREATED: &str = "shop.created";
/// The other shop events, each with a [`ShopChanged`]: `shop.updated`, `shop.suspended`,
/// `shop.reactivated`.
pub const SHOP_EVENTS: &str = "shop.*";
/// `domain.added`, `domain.verified`, `domain.failed`, `domain.removed`, each with a
/// [`DomainChanged`].
pub const DOMAIN_EVENTS: &str = "domain.*";
/// The version of every `shop.*` and `domain.*` payload.
pub const TENANT_EVENT_VERSION: u32 = 1;

/// A shop as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopChanged {
    pub shop_id: TenantId,
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
    /// The plan's code (`free`, `pro`, …).
    pub plan: String,
    /// Only on `shop.created`, when the platform admin named an owner to invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
}

/// A custom domain of a shop as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainChanged {
    pub shop_id: TenantId,
    /// `dom_…`.
    pub domain_id: String,
    pub hostname: String,
    /// `pending`, `verified` or `failed` (on `domain.removed`: what it was).
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_reads_back_as_published_and_names_its_owner_only_when_there_is_one() {
        let shop = ShopChanged {
            shop_id: TenantId::new(),
            slug: "acme".into(),
            status: "active".into(),
            plan: "free".into(),
            owner_email: None,
        };
        let payload = serde_json::to_value(&shop).unwrap();
        assert!(payload.get("owner_email").is_none());
        assert_eq!(
            serde_json::from_value::<ShopChanged>(payload).unwrap(),
            shop
        );
        let created = ShopChanged {
            owner_email: Some("owner@acme.example".into()),
            ..shop
        };
        let payload = serde_json::to_value(&created).unwrap();
        assert_eq!(payload["owner_email"], "owner@acme.example");
        assert_eq!(
            serde_json::from_value::<ShopChanged>(payload).unwrap(),
            created
        );
    }
}
