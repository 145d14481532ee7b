//! Everything about a set of products that a page or an event shows, loaded in a handful of
//! queries: their variants, attribute values, vendors and category paths, and on request
//! their images and stock.

use super::media::Media;
use super::{attributes, categories, media, products, stock, variants, vendors};
use crate::domain::{CategoryTree, Product, Variant, VendorMirror};
use crate::events::{AttributeSnapshot, ProductChanged, VariantSnapshot};
use mercato_db::TenantTx;
use mercato_tenant_context::{CategoryId, ProductId, VariantId, VendorId};
use sea_orm::DbErr;
use std::collections::HashMap;

/// What to load besides the product rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    pub media: bool,
    pub stock: bool,
}

#[derive(Debug, Default)]
pub struct Bundle {
    /// In the order the ids were asked for (unknown ids left out).
    pub products: Vec<Product>,
    pub variants: HashMap<ProductId, Vec<Variant>>,
    /// (code, canonical value) by code.
    pub attributes: HashMap<ProductId, Vec<(String, String)>>,
    pub vendors: HashMap<VendorId, VendorMirror>,
    pub tree: CategoryTree,
    pub category_slugs: HashMap<CategoryId, (String, String)>,
    pub media: HashMap<ProductId, Vec<Media>>,
    /// Available units per variant; a variant missing here has 0.
    pub stock: HashMap<VariantId, i64>,
}

pub async fn load(tx: &TenantTx, ids: &[ProductId], include: Include) -> Result<Bundle, DbErr> {
    let mut found = products::find_many(tx, ids).await?;
    let order: HashMap<ProductId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    found.sort_by_key(|p| order.get(&p.id).copied().unwrap_or(usize::MAX));
    bundle_of(tx, found, include).await
}

/// Completes a bundle for products already read.
pub async fn bundle_of(
    tx: &TenantTx,
    found: Vec<Product>,
    include: Include,
) -> Result<Bundle, DbErr> {
    let ids: Vec<ProductId> = found.iter().map(|p| p.id).collect();
    let mut bundle = Bundle::default();
    for v in variants::of_products(tx, &ids).await? {
        bundle.variants.entry(v.product).or_default().push(v);
    }
    for (product, code, value) in attributes::values_of(tx, &ids).await? {
        bundle
            .attributes
            .entry(product)
            .or_default()
            .push((code, value));
    }
    let mut vendor_ids: Vec<VendorId> = found.iter().map(|p| p.vendor).collect();
    vendor_ids.sort();
    vendor_ids.dedup();
    for vendor in vendors::find_many(tx, &vendor_ids).await? {
        bundle.vendors.insert(vendor.id, vendor);
    }
    if found.iter().any(|p| p.category.is_some()) {
        let all = categories::all(tx).await?;
        bundle.tree = CategoryTree::new(&all);
        bundle.category_slugs = all.into_iter().map(|c| (c.id, (c.slug, c.name))).collect();
    }
    if include.media {
        for m in media::of_products(tx, &ids).await? {
            bundle.media.entry(m.product).or_default().push(m);
        }
    }
    if include.stock {
        let variant_ids: Vec<VariantId> =
            bundle.variants.values().flatten().map(|v| v.id).collect();
        bundle.stock = stock::available(tx, &variant_ids).await?;
    }
    bundle.products = found;
    Ok(bundle)
}

impl Bundle {
    pub fn variants_of(&self, id: ProductId) -> &[Variant] {
        self.variants.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn attributes_of(&self, id: ProductId) -> &[(String, String)] {
        self.attributes.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn media_of(&self, id: ProductId) -> &[Media] {
        self.media.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn available(&self, variant: VariantId) -> i64 {
        self.stock.get(&variant).copied().unwrap_or(0)
    }

    /// Shoppers see it: active, and its vendor approved.
    pub fn visible(&self, product: &Product) -> bool {
        product.status == crate::domain::ProductStatus::Active
            && self
                .vendors
                .get(&product.vendor)
                .is_some_and(VendorMirror::is_selling)
    }

    /// The `product.changed` payload of `product` as it stands (`deleted` when it is gone).
    pub fn changed(&self, product: &Product, deleted: bool) -> ProductChanged {
        ProductChanged {
            product_id: product.id,
            vendor_id: product.vendor,
            slug: product.slug.clone(),
            title: product.title.clone(),
            description: product.description.clone(),
            status: product.status,
            visible: !deleted && self.visible(product),
            category_id: product.category,
            category_path: product
                .category
                .map(|c| self.tree.path(c))
                .unwrap_or_default(),
            tags: product.tags.clone(),
            attributes: self
                .attributes_of(product.id)
                .iter()
                .map(|(code, value)| AttributeSnapshot {
                    code: code.clone(),
                    value: value.clone(),
                })
                .collect(),
            vendor_name: self
                .vendors
                .get(&product.vendor)
                .map(|v| v.store_name.clone())
                .unwrap_or_default(),
            variants: self
                .variants_of(product.id)
                .iter()
                .map(|v| VariantSnapshot {
                    variant_id: v.id,
                    sku: v.sku.clone(),
                    price: v.price,
                    compare_at_price: v.compare_at,
                })
                .collect(),
            created_at: product.created_at,
            updated_at: product.updated_at,
            deleted,
        }
    }
}
