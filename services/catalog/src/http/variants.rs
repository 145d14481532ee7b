//! A product's variants: add, change, remove. Every change publishes `product.changed`.
//!
//! A variant is what a shopper pays for: in a shop that moderates listings, the vendor's staff
//! adding one or changing anything of one but its barcode sends an active product back to
//! `pending_review` ([`crate::app::review`]). Removing one does not: what is left was approved.

use super::body::Body;
use super::out::ProductOut;
use super::products::{save_and_show, view};
use super::{conflict_of, product_to_change, require_listing};
use crate::domain::product::Edit;
use crate::domain::variant::{
    Dimensions, VariantClash, check_barcode, check_options, check_prices, check_side, check_sku,
    check_together, check_weight,
};
use crate::domain::{Product, ProductStatus, Variant, check_name};
use crate::problems::CatalogProblem;
use crate::repo;
use crate::{CatalogState, app};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use mercato_kernel::http::{Json, nullable, path_id};
use mercato_kernel::{Checks, Money, Problem};
use mercato_tenant_context::{ProductId, TenantContext, VariantId};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/catalog/products/{product_id}/variants", post(add))
        .route(
            "/api/v1/catalog/products/{product_id}/variants/{variant_id}",
            patch(update).delete(remove),
        )
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantIn {
    /// Unique in the shop: 1-64 letters, digits, `-`, `_`, `.` or `/`.
    pub sku: String,
    #[serde(default)]
    pub title: Option<String>,
    /// A value for each of the product's option types, e.g. `{"size": "M"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// In minor units, e.g. `{"amount": 1999, "currency": "EUR"}`; not negative.
    pub price: Money,
    /// The "was" price: same currency, above `price`.
    #[serde(default)]
    pub compare_at_price: Option<Money>,
    #[serde(default)]
    pub weight_grams: Option<i64>,
    #[serde(default)]
    pub dimensions_mm: Option<Dimensions>,
    /// GTIN/EAN/UPC, 8-14 digits.
    #[serde(default)]
    pub barcode: Option<String>,
}

/// Checks one variant's own fields, naming them under `prefix` (`/variants/0`).
pub fn check_variant(checks: &mut Checks, prefix: &str, v: &VariantIn, option_types: &[String]) {
    checks.field(&format!("{prefix}/sku"), check_sku(&v.sku));
    if let Some(title) = &v.title {
        checks.field(&format!("{prefix}/title"), check_name(title, 200));
    }
    if let Err((key, message)) = check_options(option_types, &v.options) {
        checks.push(&format!("{prefix}/options/{key}"), message);
    }
    for (field, message) in check_prices(v.price, v.compare_at_price) {
        checks.push(&format!("{prefix}{field}"), message);
    }
    if let Some(w) = v.weight_grams {
        checks.field(&format!("{prefix}/weight_grams"), check_weight(w));
    }
    if let Some(d) = v.dimensions_mm {
        for (side, mm) in [
            ("length", d.length),
            ("width", d.width),
            ("height", d.height),
        ] {
            checks.field(&format!("{prefix}/dimensions_mm/{side}"), check_side(mm));
        }
    }
    if let Some(code) = &v.barcode {
        checks.field(&format!("{prefix}/barcode"), check_barcode(code));
    }
}

pub fn variant_from(input: VariantIn, product: ProductId, position: i32) -> Variant {
    let now = crate::domain::now();
    Variant {
        id: VariantId::new(),
        product,
        sku: input.sku,
        title: input.title.map(|t| t.trim().to_owned()),
        options: input
            .options
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_owned()))
            .collect(),
        price: input.price,
        compare_at: input.compare_at_price,
        weight_grams: input.weight_grams,
        dimensions: input.dimensions_mm,
        barcode: input.barcode,
        position,
        created_at: now,
        updated_at: now,
    }
}

/// The variants of one product together: one currency, distinct option values. Errors name
/// the offending variant under `prefix` (`/variants/{index}`), offset by `skip` variants that
/// are not the client's (already stored ones come first).
pub fn check_all(variants: &[Variant], prefix: &str, skip: usize) -> Result<(), Problem> {
    match check_together(variants.iter().map(|v| (&v.price, &v.options)), None) {
        Ok(()) => Ok(()),
        Err((index, clash)) => {
            let at = index.saturating_sub(skip);
            let field = match clash {
                VariantClash::Currency(_) => format!("{prefix}{at}/price/currency"),
                VariantClash::SameOptions | VariantClash::NoOptionTypes => {
                    format!("{prefix}{at}/options")
                }
            };
            Err(Problem::invalid_field(field, clash.message()))
        }
    }
}

/// The product's currency and lowest price from its variants.
pub fn reprice(product: &mut Product, variants: &[Variant]) {
    product.currency = variants.first().map(|v| v.price.currency);
    product.min_price = variants.iter().map(|v| v.price.amount).min().unwrap_or(0);
}

#[utoipa::path(post, path = "/api/v1/catalog/products/{product_id}/variants", tag = "catalog",
    request_body = VariantIn, params(("product_id" = String, Path)),
    responses((status = 201, body = ProductOut, description = "the product with the new variant. In a shop that moderates listings, the vendor's staff adding one to an `active` product send it back to `pending_review`: off sale until merchant staff approve it again"),
        (status = 403), (status = 404),
        (status = 409, description = "`sku_taken`, or the vendor may not list"), (status = 422)))]
pub async fn add(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Body(body): Body<VariantIn>,
) -> Result<(StatusCode, Json<ProductOut>), Problem> {
    let id: ProductId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut product, vendor, side) = product_to_change(&tx, &ctx, id).await?;
    require_listing(&vendor)?;
    let mut checks = Checks::default();
    check_variant(&mut checks, "", &body, &product.option_types);
    checks.finish()?;
    let mut all = repo::variants::of_products(&tx, &[product.id]).await?;
    if all.len() >= 100 {
        return Err(Problem::of(
            CatalogProblem::TooManyVariants,
            "a product has at most 100 variants",
        ));
    }
    let position = all.iter().map(|v| v.position).max().unwrap_or(-1) + 1;
    let variant = variant_from(body, product.id, position);
    all.push(variant.clone());
    if let Err(problem) = check_all(&all, "/", all.len() - 1) {
        // The only variant the client sent is the last one: name its fields from the root.
        let mut problem = problem;
        for error in &mut problem.errors {
            error.field = error.field.trim_start_matches("/0").to_owned();
        }
        return Err(problem);
    }
    repo::variants::insert_many(&tx, std::slice::from_ref(&variant))
        .await
        .map_err(|e| conflict_of(e, "variant"))?;
    reprice(&mut product, &all);
    app::review::after_edit(&tx, &mut product, side, Edit::Shown).await?;
    let out = save_and_show(&state, tx, &ctx, product).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Variant changes; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub options: Option<BTreeMap<String, String>>,
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Money>)]
    pub compare_at_price: Option<Option<Money>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub weight_grams: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Dimensions>)]
    pub dimensions_mm: Option<Option<Dimensions>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub barcode: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/catalog/products/{product_id}/variants/{variant_id}", tag = "catalog",
    request_body = VariantPatch, params(("product_id" = String, Path), ("variant_id" = String, Path)),
    responses((status = 200, body = ProductOut, description = "the product as changed. In a shop that moderates listings, the vendor's staff changing anything of a variant of an `active` product but its barcode (its price, say) send the product back to `pending_review`: off sale until merchant staff approve it again"),
        (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path((id, variant_id)): Path<(String, String)>,
    Body(patch): Body<VariantPatch>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let variant_id: VariantId = path_id(&variant_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut product, vendor, side) = product_to_change(&tx, &ctx, id).await?;
    require_listing(&vendor)?;
    let mut all = repo::variants::of_products(&tx, &[product.id]).await?;
    let index = all
        .iter()
        .position(|v| v.id == variant_id)
        .ok_or_else(Problem::not_found)?;
    let current = all[index].clone();
    let merged = VariantIn {
        sku: patch.sku.unwrap_or(current.sku.clone()),
        title: patch.title.unwrap_or(current.title.clone()),
        options: patch.options.unwrap_or(current.options.clone()),
        price: patch.price.unwrap_or(current.price),
        compare_at_price: patch.compare_at_price.unwrap_or(current.compare_at),
        weight_grams: patch.weight_grams.unwrap_or(current.weight_grams),
        dimensions_mm: patch.dimensions_mm.unwrap_or(current.dimensions),
        barcode: patch.barcode.unwrap_or(current.barcode.clone()),
    };
    let mut checks = Checks::default();
    check_variant(&mut checks, "", &merged, &product.option_types);
    checks.finish()?;
    let mut changed = variant_from(merged, product.id, current.position);
    changed.id = current.id;
    changed.created_at = current.created_at;
    if changed.same_content(&current) {
        drop(tx);
        return Ok(Json(view(&state, &ctx, product.id).await?));
    }
    all[index] = changed.clone();
    // Check this variant against the others, naming its own fields.
    let mut ordered: Vec<Variant> = all.iter().filter(|v| v.id != changed.id).cloned().collect();
    ordered.push(changed.clone());
    if let Err(mut problem) = check_all(&ordered, "/", ordered.len() - 1) {
        for error in &mut problem.errors {
            error.field = error.field.trim_start_matches("/0").to_owned();
        }
        return Err(problem);
    }
    repo::variants::update(&tx, &changed)
        .await
        .map_err(|e| conflict_of(e, "variant"))?;
    reprice(&mut product, &all);
    let edit = Edit::shown_if(current.shown_differs(&changed));
    app::review::after_edit(&tx, &mut product, side, edit).await?;
    Ok(Json(save_and_show(&state, tx, &ctx, product).await?))
}

#[utoipa::path(delete, path = "/api/v1/catalog/products/{product_id}/variants/{variant_id}", tag = "catalog",
    params(("product_id" = String, Path), ("variant_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 403), (status = 404),
        (status = 409, description = "the last variant of a published product")))]
pub async fn remove(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path((id, variant_id)): Path<(String, String)>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let variant_id: VariantId = path_id(&variant_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut product, vendor, _) = product_to_change(&tx, &ctx, id).await?;
    require_listing(&vendor)?;
    let mut all = repo::variants::of_products(&tx, &[product.id]).await?;
    let index = all
        .iter()
        .position(|v| v.id == variant_id)
        .ok_or_else(Problem::not_found)?;
    if all.len() == 1
        && matches!(
            product.status,
            ProductStatus::Active | ProductStatus::PendingReview
        )
    {
        return Err(Problem::of(
            CatalogProblem::LastVariant,
            "a published product keeps at least one variant; archive the product instead",
        ));
    }
    all.remove(index);
    repo::variants::delete(&tx, variant_id).await?;
    reprice(&mut product, &all);
    Ok(Json(save_and_show(&state, tx, &ctx, product).await?))
}
