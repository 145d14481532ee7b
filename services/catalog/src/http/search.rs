//! Product search on the shop's domain, answered from the search index (see `crate::search`
//! for how it is kept up to date): `GET /api/v1/search` with filters, sorting, pages and
//! facets, and `GET /api/v1/search/suggest` for autocomplete. The shop is the caller's
//! context, never a parameter. Merchant staff rebuild the shop's index with
//! `POST /api/v1/catalog/search/reindex` (a job) and watch it with `GET` on the same path.

use super::out::{self, CategoryRef};
use super::products::definitions;
use super::signed_in;
use crate::CatalogState;
use crate::repo::{self, bundle};
use crate::search::REINDEX_JOB;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mercato_kernel::http::Json;
use mercato_kernel::{Checks, Money, Problem};
use mercato_search::{FacetSpec, Filters, PriceRange, SearchError, SearchQuery, Sort};
use mercato_tenant_context::{CategoryId, Permission, ProductId, TenantContext, VendorId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/search/suggest", get(suggest))
        .route(
            "/api/v1/catalog/search/reindex",
            get(reindex_status).post(reindex),
        )
}

/// The search's query. Besides these, `attr.<code>=<value>` filters by an attribute
/// (repeat it for "any of"; several attributes must all match).
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Words to look for (at most 200 characters); typos are forgiven and the last word
    /// also matches as a prefix. Without words: every product that passes the filters.
    q: Option<String>,
    /// A category id (`cat_…`) or slug: products in it or any category below it (repeat for
    /// "any of").
    category: Option<String>,
    /// A vendor id (`ven_…`; repeat for "any of").
    vendor_id: Option<String>,
    /// Some variant costs at least this much, in minor units.
    min_price: Option<i64>,
    /// Some variant costs at most this much, in minor units.
    max_price: Option<i64>,
    /// `true`: only products with units available; `false`: only sold-out ones.
    in_stock: Option<bool>,
    /// `relevance` (default; newest first without words), `price_asc`, `price_desc` or `newest`.
    sort: Option<String>,
    /// 1 to 100 (default 20).
    limit: Option<u64>,
    /// Hits to skip (offset + limit at most 10000); or follow `next_cursor`.
    offset: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `false` skips counting facets (faster).
    facets: Option<bool>,
}

/// One product that matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHitOut {
    pub id: ProductId,
    pub slug: String,
    pub title: String,
    pub vendor_id: VendorId,
    pub vendor_name: String,
    /// Set while the vendor is on holiday, as on the product page; null otherwise.
    pub vendor_away: Option<out::VendorAwayOut>,
    pub category_id: Option<CategoryId>,
    /// The lowest variant price.
    pub price_from: Option<Money>,
    /// The first image (a link that works for an hour).
    pub image_url: Option<String>,
    pub in_stock: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryFacetOut {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
    /// Matching products in this category or below it.
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorFacetOut {
    pub id: VendorId,
    pub name: String,
    pub count: u64,
}

/// Products whose lowest price is in `from..to` (minor units; `null`: open end).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PriceBucketOut {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValueCountOut {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StockFacetOut {
    pub in_stock: u64,
    pub out_of_stock: u64,
}

/// Counts over every matching product (not just the page), with all filters applied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchFacetsOut {
    pub categories: Vec<CategoryFacetOut>,
    pub vendors: Vec<VendorFacetOut>,
    pub price: Vec<PriceBucketOut>,
    /// Attribute code → its values (canonical text).
    pub attributes: BTreeMap<String, Vec<ValueCountOut>>,
    pub in_stock: StockFacetOut,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchOut {
    /// The page of hits, best first (or in the requested order).
    pub data: Vec<SearchHitOut>,
    pub facets: SearchFacetsOut,
    /// How many products match in all.
    pub total: u64,
    /// The next page's `cursor`, or `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestOut {
    /// Product titles for what was typed, best first.
    pub data: Vec<String>,
}

#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SuggestParams {
    /// What the shopper has typed so far (at most 100 characters).
    q: Option<String>,
    /// 1 to 20 (default 8).
    limit: Option<u64>,
}

/// A reindex of the shop's search documents, as a job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReindexOut {
    pub job_id: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

struct Parsed {
    query: SearchQuery,
    /// Category ids or slugs, resolved against the shop's tree.
    categories: Vec<String>,
}

const DEFAULT_LIMIT: usize = 20;
const DEFAULT_SUGGESTIONS: usize = 8;

fn parse_search(pairs: Vec<(String, String)>) -> Result<Parsed, Problem> {
    let mut checks = Checks::default();
    let mut query = SearchQuery {
        limit: DEFAULT_LIMIT,
        ..SearchQuery::default()
    };
    let mut categories = Vec::new();
    let mut price = PriceRange::default();
    let mut cursor = None;
    let mut offset = None;
    for (key, value) in pairs {
        let field = format!("/{key}");
        match key.as_str() {
            "q" => {
                if value.chars().count() > mercato_search::MAX_TEXT_CHARS {
                    checks.push(&field, "at most 200 characters");
                } else if value.chars().any(char::is_control) {
                    checks.push(&field, "must not have control characters");
                } else {
                    query.text = Some(value);
                }
            }
            "category" => categories.push(value),
            "vendor_id" => match value.parse::<VendorId>() {
                Ok(v) => query.filters.vendors.push(v),
                Err(_) => checks.push(&field, "a vendor id (ven_…)"),
            },
            "min_price" | "max_price" => match value.parse::<i64>() {
                Ok(n) if n >= 0 => {
                    if key == "min_price" {
                        price.min = Some(n);
                    } else {
                        price.max = Some(n);
                    }
                }
                _ => checks.push(&field, "a whole number of minor units, not negative"),
            },
            "in_stock" => match value.as_str() {
                "true" => query.filters.in_stock = Some(true),
                "false" => query.filters.in_stock = Some(false),
                _ => checks.push(&field, "true or false"),
            },
            "sort" => match value.as_str() {
                "relevance" => query.sort = Sort::Relevance,
                "price_asc" => query.sort = Sort::PriceAsc,
                "price_desc" => query.sort = Sort::PriceDesc,
                "newest" => query.sort = Sort::Newest,
                _ => checks.push(&field, "relevance, price_asc, price_desc or newest"),
            },
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=mercato_search::MAX_LIMIT).contains(&n) => query.limit = n,
                _ => checks.push(&field, "a number from 1 to 100"),
            },
            "offset" => match value.parse::<usize>() {
                Ok(n) => offset = Some(n),
                _ => checks.push(&field, "a whole number, not negative"),
            },
            "cursor" => cursor = Some(value),
            "facets" => match value.as_str() {
                "true" => query.facets = Some(FacetSpec::default()),
                "false" => query.facets = None,
                _ => checks.push(&field, "true or false"),
            },
            _ => match key.strip_prefix("attr.") {
                Some(code) if !code.is_empty() => {
                    query
                        .filters
                        .attributes
                        .entry(code.to_owned())
                        .or_default()
                        .push(value);
                }
                _ => checks.push(&field, "unknown parameter"),
            },
        }
    }
    if let (Some(min), Some(max)) = (price.min, price.max)
        && min > max
    {
        checks.push("/min_price", "must not be above max_price");
    }
    if price.min.is_some() || price.max.is_some() {
        query.filters.price = Some(price);
    }
    if let Some(text) = cursor.filter(|c| !c.is_empty()) {
        match decode_cursor(&text) {
            Some(at) if offset.is_none() => offset = Some(at),
            Some(_) => checks.push("/cursor", "give a cursor or an offset, not both"),
            None => checks.push("/cursor", "not a cursor this search gave out"),
        }
    }
    query.offset = offset.unwrap_or(0);
    if query.offset.saturating_add(query.limit) > mercato_search::MAX_WINDOW {
        checks.push("/offset", "offset + limit must be at most 10000");
    }
    checks.finish()?;
    Ok(Parsed { query, categories })
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(text: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// A query the index refused, as a 422 naming this endpoint's parameter.
fn search_problem(error: SearchError) -> Problem {
    match error {
        SearchError::InvalidQuery { field, message } => {
            let parameter = match field {
                "text" | "prefix" => "/q",
                "filters.price.min" => "/min_price",
                "filters.price.max" => "/max_price",
                "filters.categories" => "/category",
                "filters.vendors" => "/vendor_id",
                "filters.attributes" => "/attr",
                "limit" => "/limit",
                "offset" => "/offset",
                _ => "/",
            };
            Problem::invalid_field(parameter, message)
        }
        other => other.into_problem(),
    }
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, description = "the shop's matching products with facets; filter by attribute with `attr.<code>=<value>`", body = SearchOut),
        (status = 422, description = "a parameter names its problem")))]
pub async fn search(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Json<SearchOut>, Problem> {
    let Parsed {
        mut query,
        categories,
    } = parse_search(pairs)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let all_categories = repo::categories::all(&tx).await?;
    let mut checks = Checks::default();
    for category in &categories {
        let found = match category.parse::<CategoryId>() {
            Ok(id) => all_categories.iter().find(|c| c.id == id),
            Err(_) => all_categories.iter().find(|c| c.slug == *category),
        };
        match found {
            // Documents carry their category's ancestors: the id matches everything below.
            Some(c) => query.filters.categories.push(c.id),
            None => checks.push("/category", "no such category in this shop"),
        }
    }
    canonical_attributes(&tx, &mut query.filters, &mut checks).await?;
    checks.finish()?;

    let results = state
        .search
        .search(ctx.tenant, &query)
        .await
        .map_err(search_problem)?;
    let next_cursor = (query.offset + results.hits.len() < results.total as usize
        && !results.hits.is_empty())
    .then(|| encode_cursor(query.offset + results.hits.len()));

    // The page's details come from the catalog's rows; a hit the index still has but the
    // catalog no longer shows (an update on its way) is left out.
    let ids: Vec<ProductId> = results.hits.iter().map(|h| h.product_id).collect();
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
    let data = loaded
        .products
        .iter()
        .filter(|p| loaded.visible(p))
        .map(|p| {
            let summary = out::summary_out(&loaded, p, &links, super::public::today());
            SearchHitOut {
                id: summary.id,
                slug: summary.slug,
                title: summary.title,
                vendor_id: summary.vendor_id,
                vendor_name: summary.vendor_name,
                vendor_away: summary.vendor_away,
                category_id: summary.category_id,
                price_from: summary.price_from,
                image_url: summary.image_url,
                in_stock: summary.in_stock,
            }
        })
        .collect();

    let facets = results.facets;
    let category_names: HashMap<CategoryId, CategoryRef> = all_categories
        .into_iter()
        .map(|c| {
            (
                c.id,
                CategoryRef {
                    id: c.id,
                    slug: c.slug,
                    name: c.name,
                },
            )
        })
        .collect();
    let vendor_ids: Vec<VendorId> = facets.vendors.iter().map(|f| f.value).collect();
    let vendor_names: HashMap<VendorId, String> = repo::vendors::find_many(&tx, &vendor_ids)
        .await?
        .into_iter()
        .map(|v| (v.id, v.store_name))
        .collect();
    let facets = SearchFacetsOut {
        categories: facets
            .categories
            .iter()
            .filter_map(|f| {
                category_names.get(&f.value).map(|c| CategoryFacetOut {
                    id: c.id,
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    count: f.count,
                })
            })
            .collect(),
        vendors: facets
            .vendors
            .iter()
            .map(|f| VendorFacetOut {
                id: f.value,
                name: vendor_names.get(&f.value).cloned().unwrap_or_default(),
                count: f.count,
            })
            .collect(),
        price: facets
            .price_buckets
            .iter()
            .map(|b| PriceBucketOut {
                from: b.from,
                to: b.to,
                count: b.count,
            })
            .collect(),
        attributes: facets
            .attributes
            .into_iter()
            .map(|(code, values)| {
                let values = values
                    .into_iter()
                    .map(|f| ValueCountOut {
                        value: f.value,
                        count: f.count,
                    })
                    .collect();
                (code, values)
            })
            .collect(),
        in_stock: StockFacetOut {
            in_stock: facets.in_stock.in_stock,
            out_of_stock: facets.in_stock.out_of_stock,
        },
    };
    Ok(Json(SearchOut {
        data,
        facets,
        total: results.total,
        next_cursor,
    }))
}

/// Attribute filters in the shop's canonical spelling (`attr.organic=TRUE` → `true`), the
/// form the documents carry; an unknown attribute or a value of the wrong kind is a 422.
async fn canonical_attributes(
    tx: &mercato_db::TenantTx,
    filters: &mut Filters,
    checks: &mut Checks,
) -> Result<(), Problem> {
    if filters.attributes.is_empty() {
        return Ok(());
    }
    let definitions = definitions(tx).await?;
    for (code, values) in &mut filters.attributes {
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
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/search/suggest", tag = "search", params(SuggestParams),
    responses((status = 200, description = "product titles for what was typed", body = SuggestOut),
        (status = 422, description = "a parameter names its problem")))]
pub async fn suggest(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Json<SuggestOut>, Problem> {
    let mut checks = Checks::default();
    let mut prefix = String::new();
    let mut limit = DEFAULT_SUGGESTIONS;
    for (key, value) in pairs {
        let field = format!("/{key}");
        match key.as_str() {
            "q" if value.chars().count() > mercato_search::MAX_PREFIX_CHARS => {
                checks.push(&field, "at most 100 characters")
            }
            "q" if value.chars().any(char::is_control) => {
                checks.push(&field, "must not have control characters")
            }
            "q" => prefix = value,
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=mercato_search::MAX_SUGGESTIONS).contains(&n) => limit = n,
                _ => checks.push(&field, "a number from 1 to 20"),
            },
            _ => checks.push(&field, "unknown parameter"),
        }
    }
    checks.finish()?;
    if prefix.trim().is_empty() {
        return Ok(Json(SuggestOut { data: Vec::new() }));
    }
    let data = state
        .search
        .suggest(ctx.tenant, &prefix, limit)
        .await
        .map_err(search_problem)?;
    Ok(Json(SuggestOut { data }))
}

fn reindex_out(job: mercato_jobs::Job) -> ReindexOut {
    ReindexOut {
        job_id: job.id.to_string(),
        status: job.status.as_str().to_owned(),
        attempts: job.attempts,
        last_error: job.last_error,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

fn merchant_staff(ctx: &TenantContext) -> Result<(), Problem> {
    signed_in(ctx)?;
    if ctx.can(Permission::CatalogManage) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "rebuilding search needs `catalog:manage`",
        ))
    }
}

#[utoipa::path(post, path = "/api/v1/catalog/search/reindex", tag = "search",
    responses((status = 202, description = "a rebuild of the shop's search documents from the catalog is queued; poll GET on this path", body = ReindexOut),
        (status = 401, description = "not signed in"), (status = 403, description = "not merchant staff with `catalog:manage`")))]
pub async fn reindex(
    State(state): State<CatalogState>,
    ctx: TenantContext,
) -> Result<(StatusCode, Json<ReindexOut>), Problem> {
    merchant_staff(&ctx)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    // One waiting rebuild is enough: a second request joins it.
    if let Some(job) = mercato_jobs::latest_for(
        &*tx,
        ctx.tenant,
        REINDEX_JOB,
        crate::search::REINDEX_SUBJECT,
    )
    .await?
        && job.status == mercato_jobs::JobStatus::Queued
    {
        return Ok((StatusCode::ACCEPTED, Json(reindex_out(job))));
    }
    let id = crate::search::enqueue_reindex(&tx).await?;
    let job = mercato_jobs::find(&*tx, ctx.tenant, id)
        .await?
        .ok_or_else(|| Problem::internal(anyhow::anyhow!("the reindex job vanished")))?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(reindex_out(job))))
}

#[utoipa::path(get, path = "/api/v1/catalog/search/reindex", tag = "search",
    responses((status = 200, description = "the shop's latest search rebuild", body = ReindexOut),
        (status = 404, description = "no rebuild was asked for in the last 14 days (finished ones are kept that long)"),
        (status = 401, description = "not signed in"), (status = 403, description = "not merchant staff with `catalog:manage`")))]
pub async fn reindex_status(
    State(state): State<CatalogState>,
    ctx: TenantContext,
) -> Result<Json<ReindexOut>, Problem> {
    merchant_staff(&ctx)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let job = mercato_jobs::latest_for(
        &*tx,
        ctx.tenant,
        REINDEX_JOB,
        crate::search::REINDEX_SUBJECT,
    )
    .await?
    .ok_or_else(Problem::not_found)?;
    Ok(Json(reindex_out(job)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<Parsed, Problem> {
        parse_search(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let problem = q(&[
            ("min_price", "-1"),
            ("sort", "cheapest"),
            ("colour", "red"),
            ("limit", "0"),
            ("in_stock", "maybe"),
            ("vendor_id", "acme"),
            ("cursor", "zzz"),
        ])
        .err()
        .unwrap();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "/min_price",
                "/sort",
                "/colour",
                "/limit",
                "/in_stock",
                "/vendor_id",
                "/cursor"
            ]
        );
        let inverted = q(&[("min_price", "500"), ("max_price", "100")])
            .err()
            .unwrap();
        assert_eq!(inverted.errors[0].field, "/min_price");
        let deep = q(&[("offset", "9990"), ("limit", "20")]).err().unwrap();
        assert_eq!(deep.errors[0].field, "/offset");
        let long = q(&[("q", &"x".repeat(201))]).err().unwrap();
        assert_eq!(long.errors[0].field, "/q");
    }

    #[test]
    fn parameters_become_the_index_query() {
        let parsed = q(&[
            ("q", "green tea"),
            ("attr.colour", "green"),
            ("attr.colour", "black"),
            ("in_stock", "true"),
            ("sort", "price_desc"),
            ("min_price", "100"),
            ("limit", "5"),
            ("category", "tea"),
            ("facets", "false"),
        ])
        .ok()
        .unwrap();
        let query = parsed.query;
        assert_eq!(query.text.as_deref(), Some("green tea"));
        assert_eq!(
            query.filters.attributes.get("colour").unwrap(),
            &["green".to_owned(), "black".to_owned()]
        );
        assert_eq!(query.filters.in_stock, Some(true));
        assert_eq!(query.sort, Sort::PriceDesc);
        assert_eq!(
            query.filters.price,
            Some(PriceRange {
                min: Some(100),
                max: None
            })
        );
        assert_eq!(query.limit, 5);
        assert!(query.facets.is_none());
        assert_eq!(parsed.categories, ["tea"]);
        assert!(query.validate().is_ok());
    }

    #[test]
    fn cursors_are_offsets_and_index_errors_name_parameters() {
        assert_eq!(decode_cursor(&encode_cursor(40)), Some(40));
        assert_eq!(decode_cursor("bm9wZQ"), None);
        let parsed = q(&[("cursor", &encode_cursor(40))]).ok().unwrap();
        assert_eq!(parsed.query.offset, 40);
        let problem = search_problem(SearchError::InvalidQuery {
            field: "filters.price.max",
            message: "must not be below the minimum",
        });
        assert_eq!(problem.errors[0].field, "/max_price");
    }
}
