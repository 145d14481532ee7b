//! A small tea shop to search, and helpers to index it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use mercato_kernel::Currency;
use mercato_search::{
    Attribute, EmbeddedIndex, EmbeddedOptions, ProductDocument, SearchIndex, SearchResults,
};
use mercato_tenant_context::{CategoryId, ProductId, TenantId, VendorId};
use std::sync::Arc;

/// A new, empty in-memory index.
pub fn index() -> Arc<dyn SearchIndex> {
    Arc::new(EmbeddedIndex::in_memory(EmbeddedOptions::for_tests()).unwrap())
}

/// An in-memory index holding `docs`, committed.
pub async fn index_with(docs: Vec<ProductDocument>) -> Arc<dyn SearchIndex> {
    let index = index();
    index.upsert(docs).await.unwrap();
    index.commit().await.unwrap();
    index
}

/// The category tree and vendors of the tea shop:
///
/// ```text
/// drinks ─┬─ tea ── herbal          kitchen ── teapots
///         └─ coffee
/// ```
#[derive(Debug, Clone)]
pub struct TeaShop {
    pub tenant: TenantId,
    pub drinks: CategoryId,
    pub tea: CategoryId,
    pub herbal: CategoryId,
    pub coffee: CategoryId,
    pub kitchen: CategoryId,
    pub teapots: CategoryId,
    pub leaf_and_kettle: VendorId,
    pub tea_masters: VendorId,
    pub roastery: VendorId,
    pub products: Vec<ProductDocument>,
}

pub const CHAMOMILE: &str = "Organic Chamomile Tea";
pub const PEPPERMINT: &str = "Peppermint Herbal Infusion";
pub const EARL_GREY: &str = "Earl Grey Black Tea";
pub const COFFEE: &str = "Colombian Coffee Beans";
pub const TEAPOT: &str = "Cast Iron Teapot";
pub const SLEEP_BLEND: &str = "Chamomile & Honey Sleep Blend";

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap() + Duration::days(n)
}

/// A minimal valid document.
pub fn doc(tenant: TenantId, title: &str) -> ProductDocument {
    ProductDocument {
        tenant,
        product_id: ProductId::new(),
        vendor_id: VendorId::new(),
        vendor_name: "Some Vendor".into(),
        slug: title.to_lowercase().replace(' ', "-"),
        title: title.into(),
        description: String::new(),
        tags: Vec::new(),
        category_ids: Vec::new(),
        attributes: Vec::new(),
        price_min: 1_000,
        price_max: 1_000,
        currency: Currency::parse("EUR").unwrap(),
        in_stock: true,
        created_at: day(0),
    }
}

impl TeaShop {
    pub fn new() -> Self {
        let mut shop = TeaShop {
            tenant: TenantId::new(),
            drinks: CategoryId::new(),
            tea: CategoryId::new(),
            herbal: CategoryId::new(),
            coffee: CategoryId::new(),
            kitchen: CategoryId::new(),
            teapots: CategoryId::new(),
            leaf_and_kettle: VendorId::new(),
            tea_masters: VendorId::new(),
            roastery: VendorId::new(),
            products: Vec::new(),
        };
        let herbal = vec![shop.herbal, shop.tea, shop.drinks];
        let black = vec![shop.tea, shop.drinks];
        let leaf = (shop.leaf_and_kettle, "Leaf & Kettle");
        let masters = (shop.tea_masters, "Tea Masters");
        let roastery = (shop.roastery, "Bean Roastery");
        let tenant = shop.tenant;
        let product = |n: i64,
                       title: &str,
                       (vendor_id, vendor_name): (VendorId, &str),
                       description: &str,
                       tags: &[&str],
                       category_ids: Vec<CategoryId>,
                       attributes: &[(&str, &str)],
                       (price_min, price_max): (i64, i64),
                       in_stock: bool| ProductDocument {
            vendor_id,
            vendor_name: vendor_name.into(),
            description: description.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            category_ids,
            attributes: attributes
                .iter()
                .map(|(code, value)| Attribute::new(*code, *value))
                .collect(),
            price_min,
            price_max,
            in_stock,
            created_at: day(n),
            ..doc(tenant, title)
        };
        shop.products = vec![
            product(
                1,
                CHAMOMILE,
                leaf,
                "Whole chamomile flowers from the Nile delta, a calming cup before bed.",
                &["herbal", "caffeine-free"],
                herbal.clone(),
                &[("origin", "Egypt"), ("organic", "true")],
                (450, 900),
                true,
            ),
            product(
                2,
                PEPPERMINT,
                leaf,
                "Cool and fresh leaves.",
                &["herbal"],
                herbal.clone(),
                &[("origin", "Morocco")],
                (399, 399),
                true,
            ),
            product(
                3,
                EARL_GREY,
                masters,
                "A classic blend scented with oil of bergamot.",
                &["black", "bergamot"],
                black,
                &[("origin", "India")],
                (650, 1_200),
                false,
            ),
            product(
                4,
                COFFEE,
                roastery,
                "Medium roast arabica beans.",
                &["arabica"],
                vec![shop.coffee, shop.drinks],
                &[("origin", "Colombia"), ("roast", "medium")],
                (1_299, 2_499),
                true,
            ),
            product(
                5,
                TEAPOT,
                masters,
                "Keeps tea hot for an hour; a gift for tea or coffee lovers.",
                &["teaware"],
                vec![shop.teapots, shop.kitchen],
                &[("material", "iron")],
                (3_500, 3_500),
                true,
            ),
            product(
                6,
                SLEEP_BLEND,
                masters,
                "Chamomile with lavender and a touch of honey.",
                &["herbal", "sleep"],
                herbal.clone(),
                &[("origin", "Egypt")],
                (799, 799),
                true,
            ),
        ];
        shop
    }

    /// The same documents (same product ids) under another shop.
    pub fn copied_to(&self, tenant: TenantId) -> Vec<ProductDocument> {
        self.products
            .iter()
            .cloned()
            .map(|doc| ProductDocument { tenant, ..doc })
            .collect()
    }

    pub fn product(&self, title: &str) -> &ProductDocument {
        self.products.iter().find(|p| p.title == title).unwrap()
    }

    pub async fn index(&self) -> Arc<dyn SearchIndex> {
        index_with(self.products.clone()).await
    }
}

pub fn titles(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|hit| hit.title.as_str()).collect()
}

/// The titles, sorted (for assertions that do not care about order).
pub fn title_set(results: &SearchResults) -> Vec<&str> {
    let mut titles = titles(results);
    titles.sort_unstable();
    titles
}
