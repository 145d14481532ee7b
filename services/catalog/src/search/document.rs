//! The search document of a product: what the index is told about one product, built from a
//! loaded [`Bundle`] (the catalog's own rows: product, variants, attribute values, vendor
//! mirror, category tree, stock mirror). Pure: no database, no index.

use crate::domain::Product;
use crate::repo::bundle::Bundle;
use mercato_search::{
    Attribute, MAX_ATTRIBUTE_LEN, MAX_DESCRIPTION, MAX_LIST, MAX_SHORT_TEXT, ProductDocument,
};
use mercato_tenant_context::TenantId;

/// The document of `product`, or `None` when shoppers must not find it: not active, its
/// vendor not approved, or nothing to sell (no price in any currency). Texts are cut to what
/// the index accepts, so a document built here always passes [`ProductDocument::validate`].
pub fn build(tenant: TenantId, bundle: &Bundle, product: &Product) -> Option<ProductDocument> {
    if !bundle.visible(product) {
        return None;
    }
    let variants = bundle.variants_of(product.id);
    let currency = product
        .currency
        .or_else(|| variants.first().map(|v| v.price.currency))?;
    let prices = variants
        .iter()
        .filter(|v| v.price.currency == currency)
        .map(|v| v.price.amount.max(0));
    let (price_min, price_max) = prices.fold(None, |range: Option<(i64, i64)>, price| {
        Some(range.map_or((price, price), |(lo, hi)| (lo.min(price), hi.max(price))))
    })?;
    let vendor_name = bundle
        .vendors
        .get(&product.vendor)
        .map(|v| cut(&v.store_name, MAX_SHORT_TEXT))
        .unwrap_or_default();
    let mut attributes: Vec<Attribute> = bundle
        .attributes_of(product.id)
        .iter()
        .filter(|(code, value)| indexable_attribute(code, value))
        .map(|(code, value)| Attribute::new(code.clone(), value.clone()))
        .collect();
    attributes.truncate(MAX_LIST);
    let doc = ProductDocument {
        tenant,
        product_id: product.id,
        vendor_id: product.vendor,
        vendor_name,
        slug: product.slug.clone(),
        title: cut(&product.title, MAX_SHORT_TEXT),
        description: cut(
            product.description.as_deref().unwrap_or_default(),
            MAX_DESCRIPTION,
        ),
        tags: product
            .tags
            .iter()
            .filter(|tag| !tag.is_empty())
            .map(|tag| cut(tag, MAX_ATTRIBUTE_LEN))
            .take(MAX_LIST)
            .collect(),
        category_ids: product
            .category
            .map(|c| bundle.tree.path(c))
            .unwrap_or_default()
            .into_iter()
            .take(MAX_LIST)
            .collect(),
        attributes,
        price_min,
        price_max,
        currency,
        in_stock: variants.iter().any(|v| bundle.available(v.id) > 0),
        created_at: product.created_at,
    };
    match doc.validate() {
        Ok(()) => Some(doc),
        Err(error) => {
            // The catalog's own checks make this unreachable; if it happens, the product is
            // left out of search rather than blocking the indexer.
            tracing::warn!(tenant_id = %tenant, product_id = %product.id, error = %error, "product not indexable; left out of search");
            None
        }
    }
}

fn indexable_attribute(code: &str, value: &str) -> bool {
    let part = |text: &str| {
        !text.is_empty() && text.len() <= MAX_ATTRIBUTE_LEN && !text.chars().any(char::is_control)
    };
    part(code) && part(value) && !code.contains('=')
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::Seo;
    use crate::domain::{
        Category, CategoryTree, ProductStatus, Variant, VendorMirror, VendorStatus,
    };
    use mercato_kernel::{Currency, Money};
    use mercato_tenant_context::{CategoryId, ProductId, UserId, VariantId, VendorId};
    use std::collections::BTreeMap;

    fn eur(amount: i64) -> Money {
        Money {
            amount,
            currency: Currency::parse("EUR").unwrap(),
        }
    }

    fn category(id: CategoryId, parent: Option<CategoryId>, slug: &str) -> Category {
        Category {
            id,
            parent,
            name: slug.to_uppercase(),
            slug: slug.into(),
            position: 0,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn variant(product: ProductId, sku: &str, price: Money) -> Variant {
        Variant {
            id: VariantId::new(),
            product,
            sku: sku.into(),
            title: None,
            options: BTreeMap::new(),
            price,
            compare_at: None,
            weight_grams: None,
            dimensions: None,
            barcode: None,
            position: 0,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    /// An active product of an approved vendor in drinks › tea, with two variants (the
    /// cheaper one stocked), tags and attributes.
    fn sample() -> (Bundle, Product, CategoryId, CategoryId) {
        let (drinks, tea) = (CategoryId::new(), CategoryId::new());
        let vendor = VendorMirror {
            id: VendorId::new(),
            slug: "nordic-tea".into(),
            store_name: "Nordic Tea".into(),
            status: VendorStatus::Approved,
            owner: UserId::new(),
            holiday_until: None,
            event_at: chrono::Utc::now(),
        };
        let product = Product {
            id: ProductId::new(),
            vendor: vendor.id,
            slug: "sencha".into(),
            title: "Sencha Green Tea".into(),
            description: Some("Steamed green tea".into()),
            status: ProductStatus::Active,
            status_reason: None,
            category: Some(tea),
            tags: vec!["green".into(), "japan".into()],
            option_types: vec!["size".into()],
            seo: Seo::default(),
            currency: Some(Currency::parse("EUR").unwrap()),
            min_price: 650,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let small = variant(product.id, "SEN-50", eur(650));
        let large = variant(product.id, "SEN-100", eur(1150));
        let mut bundle = Bundle::default();
        bundle.stock.insert(small.id, 3);
        bundle.variants.insert(product.id, vec![large, small]);
        bundle.attributes.insert(
            product.id,
            vec![
                ("colour".into(), "green".into()),
                ("organic".into(), "true".into()),
            ],
        );
        bundle.vendors.insert(vendor.id, vendor);
        bundle.tree = CategoryTree::new(&[
            category(drinks, None, "drinks"),
            category(tea, Some(drinks), "tea"),
        ]);
        (bundle, product, drinks, tea)
    }

    #[test]
    fn a_visible_product_becomes_a_complete_document() {
        let (bundle, product, drinks, tea) = sample();
        let tenant = TenantId::new();
        let doc = build(tenant, &bundle, &product).unwrap();
        assert_eq!(doc.tenant, tenant);
        assert_eq!(doc.product_id, product.id);
        assert_eq!(doc.vendor_name, "Nordic Tea");
        assert_eq!(doc.title, "Sencha Green Tea");
        assert_eq!(doc.description, "Steamed green tea");
        assert_eq!(
            doc.category_ids,
            [drinks, tea],
            "the category with its ancestors"
        );
        assert_eq!((doc.price_min, doc.price_max), (650, 1150));
        assert_eq!(doc.currency.code(), "EUR");
        assert!(doc.in_stock, "one variant has units");
        assert_eq!(
            doc.attributes,
            [
                Attribute::new("colour", "green"),
                Attribute::new("organic", "true")
            ]
        );
        assert_eq!(doc.tags, ["green", "japan"]);
        assert!(doc.validate().is_ok());
    }

    #[test]
    fn sold_out_when_no_variant_has_units() {
        let (mut bundle, product, _, _) = sample();
        bundle.stock.clear();
        assert!(!build(TenantId::new(), &bundle, &product).unwrap().in_stock);
    }

    #[test]
    fn hidden_products_have_no_document() {
        for status in [
            ProductStatus::Draft,
            ProductStatus::PendingReview,
            ProductStatus::Rejected,
            ProductStatus::Archived,
        ] {
            let (bundle, mut product, _, _) = sample();
            product.status = status;
            assert!(
                build(TenantId::new(), &bundle, &product).is_none(),
                "{status:?}"
            );
        }
        let (mut bundle, product, _, _) = sample();
        for vendor in bundle.vendors.values_mut() {
            vendor.status = VendorStatus::Suspended;
        }
        assert!(
            build(TenantId::new(), &bundle, &product).is_none(),
            "suspended vendor"
        );
        let (mut bundle, product, _, _) = sample();
        bundle.vendors.clear();
        assert!(
            build(TenantId::new(), &bundle, &product).is_none(),
            "unknown vendor"
        );
        let (mut bundle, mut product, _, _) = sample();
        bundle.variants.clear();
        product.currency = None;
        assert!(
            build(TenantId::new(), &bundle, &product).is_none(),
            "nothing to sell"
        );
    }

    #[test]
    fn oversized_or_odd_values_are_cut_to_what_the_index_accepts() {
        let (mut bundle, mut product, _, _) = sample();
        product.description = Some("é".repeat(MAX_DESCRIPTION));
        product.title = "ü".repeat(MAX_SHORT_TEXT);
        bundle
            .attributes
            .insert(product.id, vec![("note".into(), "x".repeat(300))]);
        let doc = build(TenantId::new(), &bundle, &product).unwrap();
        assert!(doc.description.len() <= MAX_DESCRIPTION);
        assert!(doc.title.len() <= MAX_SHORT_TEXT);
        assert!(doc.attributes.is_empty(), "an over-long value is left out");
        assert!(doc.validate().is_ok());
        assert_eq!(cut("aé", 2), "a", "cut on a character boundary");
    }
}
