//! What the catalog lets other crates depend on (ADR 0028): the payloads of its events, as
//! it publishes them and as a consumer reads them back. No database, no HTTP server, no I/O:
//! a consumer depends on this crate, never on `mercato-catalog` itself.
//!
//! - `product.changed` ([`ProductChanged`], version 1): a full snapshot of a product whenever
//!   it, its variants, its images, its status or its visibility to shoppers change, and once
//!   more with `deleted: true` when it is deleted. Inventory learns from it which variants
//!   are whose, orders what a variant costs and whose it is, search what to index.
//! - `product.approved`, `product.rejected` ([`ProductModerated`], version 1): the merchant's
//!   moderation decisions.

use chrono::{DateTime, Utc};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, ProductId, VariantId, VendorId};
use serde::{Deserialize, Serialize};

pub const PRODUCT_CHANGED: &str = "product.changed";
pub const PRODUCT_APPROVED: &str = "product.approved";
pub const PRODUCT_REJECTED: &str = "product.rejected";
/// The version of every `product.*` payload.
pub const PRODUCT_EVENT_VERSION: u32 = 1;

/// The attribute code whose value names a product's tax category (`standard` when absent).
pub const TAX_CATEGORY_ATTRIBUTE: &str = "tax_category";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being prepared; only the vendor and the merchant see it.
    Draft,
    /// Published by the vendor; waits for the merchant (the shop moderates listings).
    PendingReview,
    /// On sale (shoppers see it while its vendor is approved).
    Active,
    /// Turned down or taken down by the merchant, with a reason.
    Rejected,
    /// Off sale, kept.
    Archived,
}

impl ProductStatus {
    pub const ALL: [ProductStatus; 5] = [
        Self::Draft,
        Self::PendingReview,
        Self::Active,
        Self::Rejected,
        Self::Archived,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PendingReview => "pending_review",
            Self::Active => "active",
            Self::Rejected => "rejected",
            Self::Archived => "archived",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// `product.changed`: the product as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductChanged {
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    /// Shoppers see it: `active` and its vendor approved (and not deleted).
    pub visible: bool,
    pub category_id: Option<CategoryId>,
    /// Category ids from the root down to `category_id`.
    pub category_path: Vec<CategoryId>,
    pub tags: Vec<String>,
    pub attributes: Vec<AttributeSnapshot>,
    pub vendor_name: String,
    pub variants: Vec<VariantSnapshot>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
}

impl ProductChanged {
    /// The canonical value of the attribute `code`, if the product has it.
    pub fn attribute(&self, code: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSnapshot {
    pub code: String,
    /// The canonical text (`red`, `1.5`, `true`).
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSnapshot {
    pub variant_id: VariantId,
    pub sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
}

/// `product.approved` / `product.rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductModerated {
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub slug: String,
    pub title: String,
    /// Why it was rejected; shown to the vendor.
    pub reason: Option<String>,
    /// `usr_…` or `key_…`.
    pub actor: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_codes_and_serde() {
        for status in ProductStatus::ALL {
            assert_eq!(ProductStatus::parse(status.code()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.code())
            );
        }
        assert_eq!(ProductStatus::parse("sold"), None);
    }

    #[test]
    fn a_snapshot_reads_back_as_published() {
        let eur = mercato_kernel::Currency::parse("EUR").unwrap();
        let snapshot = ProductChanged {
            product_id: ProductId::new(),
            vendor_id: VendorId::new(),
            slug: "sencha".into(),
            title: "Sencha".into(),
            description: None,
            status: ProductStatus::Active,
            visible: true,
            category_id: None,
            category_path: Vec::new(),
            tags: vec!["green".into()],
            attributes: vec![AttributeSnapshot {
                code: TAX_CATEGORY_ATTRIBUTE.into(),
                value: "reduced".into(),
            }],
            vendor_name: "Nordic Tea".into(),
            variants: vec![VariantSnapshot {
                variant_id: VariantId::new(),
                sku: "SEN-1".into(),
                price: Money::new(1290, eur),
                compare_at_price: None,
            }],
            created_at: Utc::now(),
            updated_at: Utc::now(),
            deleted: false,
        };
        let payload = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(payload["status"], "active");
        assert_eq!(payload["variants"][0]["price"]["amount"], 1290);
        let back: ProductChanged = serde_json::from_value(payload).unwrap();
        assert_eq!(back, snapshot);
        assert_eq!(back.attribute(TAX_CATEGORY_ATTRIBUTE), Some("reduced"));
        assert_eq!(back.attribute("colour"), None);
    }
}
