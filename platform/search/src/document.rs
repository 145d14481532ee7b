//! What catalog hands to the index for each product: one flat document per product, built
//! from the product, its variants, its vendor and its category path.

use crate::SearchError;
use chrono::{DateTime, Utc};
use mercato_kernel::Currency;
use mercato_tenant_context::{CategoryId, ProductId, TenantId, VendorId};
use serde::{Deserialize, Serialize};

/// The longest title, slug or vendor name, in bytes.
pub const MAX_SHORT_TEXT: usize = 1_000;
/// The longest description, in bytes; catalog truncates longer ones before indexing.
pub const MAX_DESCRIPTION: usize = 100_000;
/// At most this many tags, categories or attributes per document.
pub const MAX_LIST: usize = 200;
/// The longest attribute code or value, and the longest tag, in bytes.
pub const MAX_ATTRIBUTE_LEN: usize = 256;

/// One product as search sees it.
///
/// Documents are keyed by `(tenant, product_id)`: upserting the same key replaces the
/// document; the same product id under two tenants is two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDocument {
    pub tenant: TenantId,
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    /// Searched as text (a shopper may type the store's name).
    pub vendor_name: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The product's category **and all its ancestors**: filtering on a category then
    /// matches products anywhere below it, and its facet count includes them.
    pub category_ids: Vec<CategoryId>,
    /// Attribute values as text (`colour` → `red`, `organic` → `true`, `weight_g` → `250`):
    /// their values are searched as text, filtered on and faceted exactly as given, so
    /// catalog passes enum values in their canonical spelling. A code may repeat (a product
    /// whose variants come in red and blue has both).
    pub attributes: Vec<Attribute>,
    /// The lowest and highest variant price in minor units of [`Self::currency`] (the shop's
    /// currency). Filters match when the range overlaps; price sorting and price buckets use
    /// `price_min` (the "from" price).
    pub price_min: i64,
    pub price_max: i64,
    pub currency: Currency,
    /// Whether any variant can be bought now.
    pub in_stock: bool,
    /// When the product was created: the `Newest` sort.
    pub created_at: DateTime<Utc>,
}

/// Joins an attribute's code and value where both backends filter and facet on the pair
/// (`colour=red`); codes cannot contain it, so the pair splits back at its first `=`.
pub(crate) const ATTRIBUTE_SEPARATOR: char = '=';

/// One attribute value of a product. The code is an identifier (no `=`, no control
/// characters); the value is any text without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attribute {
    pub code: String,
    pub value: String,
}

impl Attribute {
    pub fn new(code: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            value: value.into(),
        }
    }
}

impl ProductDocument {
    /// Checks what the index relies on; every `upsert` runs it on every document first.
    pub fn validate(&self) -> Result<(), SearchError> {
        let invalid = |message| {
            Err(SearchError::InvalidDocument {
                product_id: self.product_id,
                message,
            })
        };
        if self.title.trim().is_empty() {
            return invalid("title is empty");
        }
        if self.slug.is_empty() {
            return invalid("slug is empty");
        }
        if [&self.title, &self.slug, &self.vendor_name]
            .iter()
            .any(|text| text.len() > MAX_SHORT_TEXT)
        {
            return invalid("title, slug or vendor name is longer than 1000 bytes");
        }
        if self.description.len() > MAX_DESCRIPTION {
            return invalid("description is longer than 100000 bytes");
        }
        if self.tags.len() > MAX_LIST
            || self.category_ids.len() > MAX_LIST
            || self.attributes.len() > MAX_LIST
        {
            return invalid("more than 200 tags, categories or attributes");
        }
        if self.tags.iter().any(|tag| tag.len() > MAX_ATTRIBUTE_LEN) {
            return invalid("a tag is longer than 256 bytes");
        }
        for attribute in &self.attributes {
            if !valid_attribute_part(&attribute.code)
                || !valid_attribute_part(&attribute.value)
                || attribute.code.contains(ATTRIBUTE_SEPARATOR)
            {
                return invalid(
                    "an attribute code or value is empty, longer than 256 bytes or has control characters, or a code has `=`",
                );
            }
        }
        if self.price_min < 0 || self.price_max < self.price_min {
            return invalid("prices must satisfy 0 <= price_min <= price_max");
        }
        Ok(())
    }

    /// [`Self::validate`], plus: the document belongs to `tenant` (for calls about one shop).
    pub(crate) fn validate_for(&self, tenant: TenantId) -> Result<(), SearchError> {
        if self.tenant != tenant {
            return Err(SearchError::InvalidDocument {
                product_id: self.product_id,
                message: "the document belongs to another shop",
            });
        }
        self.validate()
    }

    /// The index key: unique across tenants, stable for a product.
    pub(crate) fn key(&self) -> String {
        document_key(self.tenant, self.product_id)
    }
}

/// `<shop_…>_<prd_…>`: letters, digits and `_` only, so it is also a valid Meilisearch
/// primary key.
pub(crate) fn attribute_pair(code: &str, value: &str) -> String {
    format!("{code}{ATTRIBUTE_SEPARATOR}{value}")
}

pub(crate) fn document_key(tenant: TenantId, product: ProductId) -> String {
    format!("{tenant}_{product}")
}

fn valid_attribute_part(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_ATTRIBUTE_LEN && !text.chars().any(char::is_control)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(tenant: TenantId) -> ProductDocument {
        ProductDocument {
            tenant,
            product_id: ProductId::new(),
            vendor_id: VendorId::new(),
            vendor_name: "Leaf & Kettle".into(),
            slug: "chamomile-tea".into(),
            title: "Organic Chamomile Tea".into(),
            description: "Calming herbal infusion.".into(),
            tags: vec!["herbal".into()],
            category_ids: vec![CategoryId::new()],
            attributes: vec![Attribute::new("origin", "Egypt")],
            price_min: 450,
            price_max: 900,
            currency: Currency::parse("EUR").unwrap(),
            in_stock: true,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_complete_document_is_valid() {
        assert!(sample(TenantId::new()).validate().is_ok());
    }

    #[test]
    fn broken_documents_are_refused_with_a_reason() {
        type Breakage = fn(&mut ProductDocument);
        let cases: [Breakage; 9] = [
            |d| d.title = "  ".into(),
            |d| d.slug.clear(),
            |d| d.price_min = -1,
            |d| d.price_max = d.price_min - 1,
            |d| d.attributes.push(Attribute::new("", "x")),
            |d| d.attributes.push(Attribute::new("colour", "re\u{1f}d")),
            |d| d.attributes.push(Attribute::new("col=our", "red")),
            |d| d.tags = vec!["t".into(); MAX_LIST + 1],
            |d| d.description = "x".repeat(MAX_DESCRIPTION + 1),
        ];
        for (i, break_it) in cases.into_iter().enumerate() {
            let mut doc = sample(TenantId::new());
            break_it(&mut doc);
            match doc.validate() {
                Err(SearchError::InvalidDocument { product_id, .. }) => {
                    assert_eq!(product_id, doc.product_id, "case {i}")
                }
                other => panic!("case {i}: {other:?}"),
            }
        }
    }

    #[test]
    fn keys_are_per_tenant_and_meilisearch_safe() {
        let product = ProductId::new();
        let (a, b) = (TenantId::new(), TenantId::new());
        assert_ne!(document_key(a, product), document_key(b, product));
        let key = document_key(a, product);
        assert!(key.starts_with("shop_") && key.contains("_prd_"));
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}
