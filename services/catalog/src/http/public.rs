//! The shop's product list and pages, for everyone: only `active` products of approved
//! vendors. A suspended vendor's products vanish the moment its `vendor.suspended` reaches
//! the catalog (a deliberate choice, kept). A vendor on holiday stays approved: its
//! products stay on show, each with a `vendor_away` notice naming the day it takes orders
//! again (carts, checkout and reservations refuse its lines until then).

use super::out::{self, ProductSummaryOut, PublicProductOut};
use super::products::definitions;
use crate::CatalogState;
use crate::domain::CategoryTree;
use crate::repo::listing::{After, PublicFilter, Sort};
use crate::repo::{self, bundle};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mercato_kernel::http::Json;
use mercato_kernel::{Checks, ListResponse, Problem};
use mercato_tenant_context::{CategoryId, ProductId, TenantContext, VendorId};
use std::collections::BTreeMap;

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/products", get(list))
        .route("/api/v1/products/{slug}", get(show))
}

/// The list's query. Besides these, `attr.<code>=<value>` filters by an attribute
/// (repeat it for "any of"; several attributes must all match).
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PublicListQuery {
    /// A category id (`cat_…`) or slug: products in it or any category below it.
    category: Option<String>,
    vendor_id: Option<String>,
    /// Some variant costs at least this much, in minor units.
    min_price: Option<i64>,
    /// Some variant costs at most this much, in minor units.
    max_price: Option<i64>,
    /// Only products with units available.
    in_stock: Option<bool>,
    /// `newest` (default), `price_asc`, `price_desc` or `title`.
    sort: Option<String>,
    /// 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

struct Parsed {
    filter: PublicFilter,
    category: Option<String>,
    sort: Sort,
    limit: u64,
    after: Option<After>,
}

fn parse_query(pairs: Vec<(String, String)>) -> Result<Parsed, Problem> {
    let mut checks = Checks::default();
    let mut parsed = Parsed {
        filter: PublicFilter::default(),
        category: None,
        sort: Sort::Newest,
        limit: mercato_kernel::page::DEFAULT_LIMIT,
        after: None,
    };
    let mut cursor = None;
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs {
        let field = format!("/{key}");
        match key.as_str() {
            "category" => parsed.category = Some(value),
            "vendor_id" => match value.parse::<VendorId>() {
                Ok(v) => parsed.filter.vendor = Some(v),
                Err(_) => checks.push(&field, "a vendor id (ven_…)"),
            },
            "min_price" | "max_price" => match value.parse::<i64>() {
                Ok(n) if n >= 0 => {
                    if key == "min_price" {
                        parsed.filter.min_price = Some(n);
                    } else {
                        parsed.filter.max_price = Some(n);
                    }
                }
                _ => checks.push(&field, "a whole number of minor units, not negative"),
            },
            "in_stock" => match value.as_str() {
                "true" => parsed.filter.in_stock = true,
                "false" => parsed.filter.in_stock = false,
                _ => checks.push(&field, "true or false"),
            },
            "sort" => match Sort::parse(&value) {
                Some(sort) => parsed.sort = sort,
                None => checks.push(&field, "newest, price_asc, price_desc or title"),
            },
            "limit" => match value.parse::<u64>() {
                Ok(n) if (1..=mercato_kernel::page::MAX_LIMIT).contains(&n) => parsed.limit = n,
                _ => checks.push(&field, "a number from 1 to 200"),
            },
            "cursor" => cursor = Some(value),
            _ => match key.strip_prefix("attr.") {
                Some(code) if !code.is_empty() => {
                    attributes.entry(code.to_owned()).or_default().push(value);
                }
                _ => checks.push(&field, "unknown parameter"),
            },
        }
    }
    if let (Some(min), Some(max)) = (parsed.filter.min_price, parsed.filter.max_price)
        && min > max
    {
        checks.push("/min_price", "must not be above max_price");
    }
    // The same bounds as search's: each filter is a join in the listing's statement.
    if attributes.len() > mercato_search::MAX_ATTRIBUTE_FILTERS {
        checks.push(
            "/attr",
            format!(
                "at most {} attributes filtered on at once",
                mercato_search::MAX_ATTRIBUTE_FILTERS
            ),
        );
    }
    for (code, values) in &attributes {
        if values.len() > mercato_search::MAX_FILTER_VALUES {
            checks.push(
                &format!("/attr.{code}"),
                format!("at most {} values", mercato_search::MAX_FILTER_VALUES),
            );
        }
    }
    if let Some(text) = cursor.filter(|c| !c.is_empty()) {
        match decode_cursor(&text) {
            Some(after) => parsed.after = Some(after),
            None => checks.push("/cursor", "not a cursor this list gave out"),
        }
    }
    checks.finish()?;
    parsed.filter.attributes = attributes.into_iter().collect();
    Ok(parsed)
}

fn encode_cursor(sort: Sort, hit: &repo::listing::Hit) -> String {
    let text = match sort {
        Sort::Newest => format!("n:{}", hit.id),
        Sort::PriceAsc | Sort::PriceDesc => format!("p:{}:{}", hit.id, hit.min_price),
        Sort::Title => format!("t:{}:{}", hit.id, hit.title),
    };
    URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(text: &str) -> Option<After> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, rest) = text.split_once(':')?;
    match kind {
        "n" => Some(After::Id(rest.parse().ok()?)),
        "p" => {
            let (id, price) = rest.split_once(':')?;
            Some(After::Price(price.parse().ok()?, id.parse().ok()?))
        }
        "t" => {
            let (id, title) = rest.split_once(':')?;
            Some(After::Title(
                title.to_owned(),
                id.parse::<ProductId>().ok()?,
            ))
        }
        _ => None,
    }
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(PublicListQuery),
    responses((status = 200, description = "the shop's products on sale; filter by attribute with `attr.<code>=<value>`", body = ListResponse<ProductSummaryOut>),
        (status = 422, description = "a parameter names its problem")))]
pub async fn list(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<ProductSummaryOut>>, Problem> {
    let mut parsed = parse_query(pairs)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    if let Some(category) = &parsed.category {
        let all = repo::categories::all(&tx).await?;
        let id = match category.parse::<CategoryId>() {
            Ok(id) => all.iter().find(|c| c.id == id),
            Err(_) => all.iter().find(|c| c.slug == *category),
        }
        .map(|c| c.id)
        .ok_or_else(|| Problem::invalid_field("/category", "no such category in this shop"))?;
        parsed.filter.categories = Some(CategoryTree::new(&all).with_descendants(id));
    }
    if !parsed.filter.attributes.is_empty() {
        let definitions = definitions(&tx).await?;
        let mut checks = Checks::default();
        for (code, values) in &mut parsed.filter.attributes {
            let field = format!("/attr.{code}");
            match definitions.get(code.as_str()) {
                None => checks.push(&field, "no such attribute in this shop"),
                Some(attribute) => {
                    for value in values.iter_mut() {
                        match attribute.canonical_text(value) {
                            Ok(text) => *value = text,
                            Err(message) => checks.push(&field, message),
                        }
                    }
                }
            }
        }
        checks.finish()?;
    }
    let hits = repo::listing::public_page(
        &tx,
        &parsed.filter,
        parsed.sort,
        parsed.after.as_ref(),
        parsed.limit + 1,
    )
    .await?;
    let more = hits.len() as u64 > parsed.limit;
    let hits = &hits[..hits.len().min(parsed.limit as usize)];
    let next_cursor = more
        .then(|| hits.last().map(|h| encode_cursor(parsed.sort, h)))
        .flatten();
    let ids: Vec<ProductId> = hits.iter().map(|h| h.id).collect();
    let include = bundle::Include {
        media: true,
        stock: true,
    };
    let loaded = bundle::load(&tx, &ids, include).await?;
    let firsts: Vec<_> = loaded
        .media
        .values()
        .filter_map(|images| images.first().cloned())
        .collect();
    let links = out::media_links(&state.storage, ctx.tenant, firsts.iter()).await?;
    Ok(Json(ListResponse {
        data: loaded
            .products
            .iter()
            .map(|p| out::summary_out(&loaded, p, &links, today()))
            .collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/products/{slug}", tag = "products",
    params(("slug" = String, Path, description = "the product's slug")),
    responses((status = 200, body = PublicProductOut), (status = 404, description = "no such product on sale in this shop")))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(slug): Path<String>,
) -> Result<Json<PublicProductOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let product = repo::products::find_by_slug(&tx, &slug)
        .await?
        .ok_or_else(Problem::not_found)?;
    let include = bundle::Include {
        media: true,
        stock: true,
    };
    let loaded = bundle::bundle_of(&tx, vec![product], include).await?;
    let product = loaded.products.first().ok_or_else(Problem::not_found)?;
    if !loaded.visible(product) {
        return Err(Problem::not_found());
    }
    let definitions = definitions(&tx).await?;
    let links = out::media_links(&state.storage, ctx.tenant, loaded.media_of(product.id)).await?;
    Ok(Json(out::public_product_out(
        &loaded,
        product,
        &definitions,
        &links,
        today(),
    )))
}

/// The shop's day, as orders and inventory judge a vendor's holiday: UTC.
pub(super) fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<Parsed, Problem> {
        parse_query(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn attribute_filters_are_bounded_like_search() {
        let codes: Vec<(String, String)> = (0..=mercato_search::MAX_ATTRIBUTE_FILTERS)
            .map(|i| (format!("attr.a{i}"), "x".to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = codes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let problem = q(&pairs).err().unwrap();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/attr"]);
        let values: Vec<String> = (0..=mercato_search::MAX_FILTER_VALUES)
            .map(|i| format!("v{i}"))
            .collect();
        let pairs: Vec<(&str, &str)> = values.iter().map(|v| ("attr.colour", v.as_str())).collect();
        let problem = q(&pairs).err().unwrap();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/attr.colour"]);
        let at_the_limit: Vec<(&str, &str)> = pairs[..mercato_search::MAX_FILTER_VALUES].to_vec();
        assert!(q(&at_the_limit).is_ok());
    }

    #[test]
    fn the_query_names_each_bad_parameter() {
        let problem = q(&[
            ("min_price", "-1"),
            ("sort", "cheapest"),
            ("colour", "red"),
            ("limit", "0"),
        ])
        .err()
        .unwrap();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/min_price", "/sort", "/colour", "/limit"]);
        let parsed = q(&[
            ("attr.colour", "red"),
            ("attr.colour", "blue"),
            ("in_stock", "true"),
            ("sort", "price_asc"),
        ])
        .ok()
        .unwrap();
        assert_eq!(
            parsed.filter.attributes,
            vec![(
                "colour".to_owned(),
                vec!["red".to_owned(), "blue".to_owned()]
            )]
        );
        assert!(parsed.filter.in_stock);
        assert_eq!(parsed.sort, Sort::PriceAsc);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let hit = repo::listing::Hit {
            id: ProductId::new(),
            min_price: 1999,
            title: "Tea: green".into(),
        };
        for (sort, expected) in [
            (Sort::Newest, After::Id(hit.id)),
            (Sort::PriceAsc, After::Price(1999, hit.id)),
            (Sort::Title, After::Title("Tea: green".into(), hit.id)),
        ] {
            assert_eq!(decode_cursor(&encode_cursor(sort, &hit)), Some(expected));
        }
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert!(q(&[("cursor", "zzz")]).is_err());
    }
}
