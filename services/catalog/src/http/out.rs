//! What products look like in responses: the full management view, the public page, the
//! public list item; built from a loaded [`Bundle`] (media links are signed on the way out).

use crate::domain::variant::Dimensions;
use crate::domain::{Attribute, MediaId, Product, ProductStatus};
use crate::repo::bundle::Bundle;
use crate::repo::media::Media;
use mercato_kernel::{Money, Problem};
use mercato_storage::{ObjectKey, Storage};
use mercato_tenant_context::{CategoryId, ProductId, TenantId, VariantId, VendorId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long an image link works.
pub const MEDIA_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributeValueOut {
    pub code: String,
    pub name: String,
    pub kind: crate::domain::AttributeKind,
    /// Typed as the attribute's kind: a string, a number or a boolean.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaOut {
    pub id: MediaId,
    /// Fetches the image without credentials for an hour: a gateway-signed `/media/…` path
    /// (local storage) or a presigned S3 URL.
    pub url: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub position: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VariantOut {
    pub id: VariantId,
    pub sku: String,
    pub title: Option<String>,
    /// A value for each of the product's option types.
    pub options: BTreeMap<String, String>,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub weight_grams: Option<i64>,
    pub dimensions_mm: Option<Dimensions>,
    pub barcode: Option<String>,
    /// Units available across the vendor's warehouses (0 until inventory reports stock).
    pub available: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeoOut {
    pub title: Option<String>,
    pub description: Option<String>,
    pub canonical_slug: Option<String>,
}

/// A product as its vendor's staff and the merchant see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductOut {
    pub id: ProductId,
    pub vendor_id: VendorId,
    pub vendor_name: String,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    /// Why the merchant rejected it.
    pub status_reason: Option<String>,
    /// Shoppers see it now: active and its vendor approved.
    pub visible: bool,
    pub category_id: Option<CategoryId>,
    /// From the root down to the product's category.
    pub category_path: Vec<CategoryRef>,
    pub tags: Vec<String>,
    pub option_types: Vec<String>,
    pub attributes: Vec<AttributeValueOut>,
    pub seo: SeoOut,
    pub variants: Vec<VariantOut>,
    pub media: Vec<MediaOut>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicVariantOut {
    pub id: VariantId,
    pub sku: String,
    pub title: Option<String>,
    pub options: BTreeMap<String, String>,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    /// Units available now (0 until inventory reports stock).
    pub available: i64,
    pub weight_grams: Option<i64>,
    pub dimensions_mm: Option<Dimensions>,
}

/// Why a notice about the vendor is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorAwayCode {
    /// On holiday: the code carts, checkout and reservations refuse its lines with.
    VendorOnHoliday,
}

/// A notice shown with a product while its vendor is away: its listings stay on show, but
/// carts, checkout and reservations refuse its lines until `back_on`. (A suspended vendor's
/// products are not shown at all, so they carry no notice.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VendorAwayOut {
    pub code: VendorAwayCode,
    /// For shoppers, as carts word it: `this vendor is on holiday and takes orders again on
    /// 2030-05-11`.
    pub message: String,
    /// The day the vendor takes orders again (the day after its last day away; UTC).
    pub back_on: chrono::NaiveDate,
}

/// A product page on the shop's domain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicProductOut {
    pub id: ProductId,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub vendor_id: VendorId,
    pub vendor_name: String,
    /// Set while the vendor is on holiday (the product can be seen but not bought until
    /// `back_on`); null otherwise.
    pub vendor_away: Option<VendorAwayOut>,
    pub category_path: Vec<CategoryRef>,
    pub tags: Vec<String>,
    pub option_types: Vec<String>,
    pub attributes: Vec<AttributeValueOut>,
    pub variants: Vec<PublicVariantOut>,
    pub media: Vec<MediaOut>,
    /// Falls back to the product's own title, description and slug.
    pub seo: SeoOut,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListVariantOut {
    pub id: VariantId,
    pub sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub available: i64,
}

/// A product in the shop's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductSummaryOut {
    pub id: ProductId,
    pub slug: String,
    pub title: String,
    pub vendor_id: VendorId,
    pub vendor_name: String,
    /// Set while the vendor is on holiday, as on the product page; null otherwise.
    pub vendor_away: Option<VendorAwayOut>,
    pub category_id: Option<CategoryId>,
    /// The lowest variant price.
    pub price_from: Option<Money>,
    /// The first image.
    pub image_url: Option<String>,
    pub in_stock: bool,
    pub variants: Vec<ListVariantOut>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Signed links for the images of a bundle, by media id.
pub async fn media_links(
    storage: &Storage,
    tenant: TenantId,
    media: impl IntoIterator<Item = &Media>,
) -> Result<HashMap<MediaId, String>, Problem> {
    let mut links = HashMap::new();
    for m in media {
        let key = ObjectKey::parse(tenant, &m.object_key).map_err(Problem::internal)?;
        let url = storage
            .download_url(&key, MEDIA_TTL)
            .await
            .map_err(|e| e.into_problem())?;
        links.insert(m.id, url);
    }
    Ok(links)
}

fn media_out(media: &[Media], links: &HashMap<MediaId, String>) -> Vec<MediaOut> {
    media
        .iter()
        .filter_map(|m| {
            links.get(&m.id).map(|url| MediaOut {
                id: m.id,
                url: url.clone(),
                content_type: m.content_type.clone(),
                size_bytes: m.size_bytes,
                position: m.position,
            })
        })
        .collect()
}

fn category_path(bundle: &Bundle, product: &Product) -> Vec<CategoryRef> {
    product
        .category
        .map(|c| bundle.tree.path(c))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|id| {
            bundle
                .category_slugs
                .get(&id)
                .map(|(slug, name)| CategoryRef {
                    id,
                    slug: slug.clone(),
                    name: name.clone(),
                })
        })
        .collect()
}

fn attributes_out(
    bundle: &Bundle,
    product: &Product,
    definitions: &HashMap<String, Attribute>,
) -> Vec<AttributeValueOut> {
    bundle
        .attributes_of(product.id)
        .iter()
        .filter_map(|(code, value)| {
            definitions.get(code).map(|a| AttributeValueOut {
                code: code.clone(),
                name: a.name.clone(),
                kind: a.kind,
                value: a.to_json(value),
            })
        })
        .collect()
}

fn vendor_name(bundle: &Bundle, product: &Product) -> String {
    bundle
        .vendors
        .get(&product.vendor)
        .map(|v| v.store_name.clone())
        .unwrap_or_default()
}

/// The notice for `product` when its vendor is on holiday on `today` (UTC).
pub fn vendor_away(
    bundle: &Bundle,
    product: &Product,
    today: chrono::NaiveDate,
) -> Option<VendorAwayOut> {
    let back_on = bundle.vendors.get(&product.vendor)?.back_on(today)?;
    Some(VendorAwayOut {
        code: VendorAwayCode::VendorOnHoliday,
        message: format!("this vendor is on holiday and takes orders again on {back_on}"),
        back_on,
    })
}

pub fn product_out(
    bundle: &Bundle,
    product: &Product,
    definitions: &HashMap<String, Attribute>,
    links: &HashMap<MediaId, String>,
) -> ProductOut {
    ProductOut {
        id: product.id,
        vendor_id: product.vendor,
        vendor_name: vendor_name(bundle, product),
        slug: product.slug.clone(),
        title: product.title.clone(),
        description: product.description.clone(),
        status: product.status,
        status_reason: product.status_reason.clone(),
        visible: bundle.visible(product),
        category_id: product.category,
        category_path: category_path(bundle, product),
        tags: product.tags.clone(),
        option_types: product.option_types.clone(),
        attributes: attributes_out(bundle, product, definitions),
        seo: SeoOut {
            title: product.seo.title.clone(),
            description: product.seo.description.clone(),
            canonical_slug: product.seo.canonical_slug.clone(),
        },
        variants: bundle
            .variants_of(product.id)
            .iter()
            .map(|v| VariantOut {
                id: v.id,
                sku: v.sku.clone(),
                title: v.title.clone(),
                options: v.options.clone(),
                price: v.price,
                compare_at_price: v.compare_at,
                weight_grams: v.weight_grams,
                dimensions_mm: v.dimensions,
                barcode: v.barcode.clone(),
                available: bundle.available(v.id),
            })
            .collect(),
        media: media_out(bundle.media_of(product.id), links),
        created_at: product.created_at,
        updated_at: product.updated_at,
    }
}

/// The product page as shoppers see it on `today` (UTC).
pub fn public_product_out(
    bundle: &Bundle,
    product: &Product,
    definitions: &HashMap<String, Attribute>,
    links: &HashMap<MediaId, String>,
    today: chrono::NaiveDate,
) -> PublicProductOut {
    PublicProductOut {
        id: product.id,
        slug: product.slug.clone(),
        title: product.title.clone(),
        description: product.description.clone(),
        vendor_id: product.vendor,
        vendor_name: vendor_name(bundle, product),
        vendor_away: vendor_away(bundle, product, today),
        category_path: category_path(bundle, product),
        tags: product.tags.clone(),
        option_types: product.option_types.clone(),
        attributes: attributes_out(bundle, product, definitions),
        variants: bundle
            .variants_of(product.id)
            .iter()
            .map(|v| PublicVariantOut {
                id: v.id,
                sku: v.sku.clone(),
                title: v.title.clone(),
                options: v.options.clone(),
                price: v.price,
                compare_at_price: v.compare_at,
                available: bundle.available(v.id),
                weight_grams: v.weight_grams,
                dimensions_mm: v.dimensions,
            })
            .collect(),
        media: media_out(bundle.media_of(product.id), links),
        seo: SeoOut {
            title: Some(
                product
                    .seo
                    .title
                    .clone()
                    .unwrap_or_else(|| product.title.clone()),
            ),
            description: product.seo.description.clone().or_else(|| {
                product
                    .description
                    .as_ref()
                    .map(|d| d.chars().take(300).collect())
            }),
            canonical_slug: Some(
                product
                    .seo
                    .canonical_slug
                    .clone()
                    .unwrap_or_else(|| product.slug.clone()),
            ),
        },
        created_at: product.created_at,
        updated_at: product.updated_at,
    }
}

/// The product in a list as shoppers see it on `today` (UTC).
pub fn summary_out(
    bundle: &Bundle,
    product: &Product,
    links: &HashMap<MediaId, String>,
    today: chrono::NaiveDate,
) -> ProductSummaryOut {
    let variants: Vec<ListVariantOut> = bundle
        .variants_of(product.id)
        .iter()
        .map(|v| ListVariantOut {
            id: v.id,
            sku: v.sku.clone(),
            price: v.price,
            compare_at_price: v.compare_at,
            available: bundle.available(v.id),
        })
        .collect();
    ProductSummaryOut {
        id: product.id,
        slug: product.slug.clone(),
        title: product.title.clone(),
        vendor_id: product.vendor,
        vendor_name: vendor_name(bundle, product),
        vendor_away: vendor_away(bundle, product, today),
        category_id: product.category,
        price_from: variants.iter().map(|v| v.price).min_by_key(|p| p.amount),
        image_url: bundle
            .media_of(product.id)
            .first()
            .and_then(|m| links.get(&m.id).cloned()),
        in_stock: variants.iter().any(|v| v.available > 0),
        variants,
        created_at: product.created_at,
    }
}
