//! Managing listings: vendor staff (with `vendor.listings:write`) and merchant staff (with
//! `catalog:manage`) create, edit, publish and delete products under `/api/v1/catalog/products`.
//!
//! In a shop that moderates listings, merchant staff approve what they saw: when the vendor's
//! staff then change what shoppers see of an active product (here, or through its variants,
//! images or a CSV import), it goes back to `pending_review` and is hidden from the shop (list,
//! page, search, carts) until approved again ([`crate::app::review`]). Merchant staff's own
//! edits keep it on sale.

use super::body::Body;
use super::out::{self, ProductOut};
use super::variants::{VariantIn, check_all, check_variant, reprice, variant_from};
use super::{
    conflict_of, is_vendor_staff, parse_reason, product_for, product_to_change, require_listing,
    vendor_for,
};
use crate::domain::product::{Edit, Seo, Side, check_option_types, check_tags, normalize_tags};
use crate::domain::{
    CategoryTree, Product, ProductAction, ProductStatus, check_name, check_slug, check_text,
    slugify,
};
use crate::events::{self, ProductModerated};
use crate::problems::CatalogProblem;
use crate::repo::{self, bundle};
use crate::{CatalogState, app};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, Query, nullable, path_id};
use mercato_kernel::{Checks, ListResponse, Problem};
use mercato_tenant_context::{
    CategoryId, Permission, ProductId, TenantContext, VendorAccess, VendorId, VendorPermission,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/catalog/products", post(create).get(list))
        .route(
            "/api/v1/catalog/products/{product_id}",
            get(show).patch(update).delete(remove),
        )
        .route(
            "/api/v1/catalog/products/{product_id}/transitions",
            post(transition),
        )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    /// The vendor whose product it is.
    pub vendor_id: VendorId,
    pub title: String,
    /// Unique in the shop; defaults to one made from the title.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category_id: Option<CategoryId>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// What variants differ in, e.g. `["size", "colour"]` (at most 3).
    #[serde(default)]
    pub option_types: Vec<String>,
    /// Values of the shop's attributes by code, typed as the attribute's kind.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub seo: Seo,
    #[serde(default)]
    pub variants: Vec<VariantIn>,
}

fn check_seo(checks: &mut Checks, seo: &Seo) {
    if let Some(title) = &seo.title {
        checks.field("/seo/title", check_name(title, 200));
    }
    if let Some(description) = &seo.description {
        checks.field("/seo/description", check_text(description, 1000));
    }
    if let Some(slug) = &seo.canonical_slug {
        checks.field("/seo/canonical_slug", check_slug(slug));
    }
}

/// The product's attribute values as canonical text, checked against the shop's attributes.
async fn attribute_values(
    tx: &TenantTx,
    values: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<(String, String)>, Problem> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let definitions: HashMap<String, crate::domain::Attribute> = repo::attributes::all(tx)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let mut checks = Checks::default();
    let mut out = Vec::new();
    for (code, value) in values {
        match definitions.get(code) {
            None => checks.push(
                &format!("/attributes/{code}"),
                "no such attribute in this shop",
            ),
            Some(attribute) => match attribute.canonical(value) {
                Ok(text) => out.push((code.clone(), text)),
                Err(message) => checks.push(&format!("/attributes/{code}"), message),
            },
        }
    }
    checks.finish()?;
    Ok(out)
}

async fn check_category(tx: &TenantTx, id: Option<CategoryId>) -> Result<(), Problem> {
    if let Some(id) = id {
        let tree = CategoryTree::new(&repo::categories::all(tx).await?);
        if !tree.contains(id) {
            return Err(Problem::invalid_field(
                "/category_id",
                "no such category in this shop",
            ));
        }
    }
    Ok(())
}

/// The product as its managers see it, read in a fresh transaction.
pub async fn view(
    state: &CatalogState,
    ctx: &TenantContext,
    id: ProductId,
) -> Result<ProductOut, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    view_in(state, &tx, ctx, id).await
}

async fn view_in(
    state: &CatalogState,
    tx: &TenantTx,
    ctx: &TenantContext,
    id: ProductId,
) -> Result<ProductOut, Problem> {
    let include = bundle::Include {
        media: true,
        stock: true,
    };
    let loaded = bundle::load(tx, &[id], include).await?;
    let product = loaded.products.first().ok_or_else(Problem::not_found)?;
    let definitions = definitions(tx).await?;
    let links = out::media_links(&state.storage, ctx.tenant, loaded.media_of(id)).await?;
    Ok(out::product_out(&loaded, product, &definitions, &links))
}

pub async fn definitions(
    tx: &TenantTx,
) -> Result<HashMap<String, crate::domain::Attribute>, Problem> {
    Ok(repo::attributes::all(tx)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect())
}

/// Saves `product` (touched now), publishes `product.changed`, commits and shows it.
pub async fn save_and_show(
    state: &CatalogState,
    tx: TenantTx,
    ctx: &TenantContext,
    mut product: Product,
) -> Result<ProductOut, Problem> {
    product.updated_at = crate::domain::now();
    repo::products::update(&tx, &product)
        .await
        .map_err(|e| conflict_of(e, "product"))?;
    events::publish_changed(&tx, &[product.id]).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    view(state, ctx, product.id).await
}

#[utoipa::path(post, path = "/api/v1/catalog/products", tag = "catalog", request_body = ProductIn,
    responses((status = 201, body = ProductOut), (status = 401), (status = 402, description = "the plan allows no more products"),
        (status = 403), (status = 404, description = "no such vendor for the caller"),
        (status = 409, description = "`slug_taken`, `sku_taken`, or `vendor_not_selling`"), (status = 422)))]
pub async fn create(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Body(body): Body<ProductIn>,
) -> Result<(StatusCode, Json<ProductOut>), Problem> {
    let slug = body.slug.clone().unwrap_or_else(|| slugify(&body.title));
    let mut checks = Checks::default();
    checks.field("/title", check_name(&body.title, 200));
    checks.field("/slug", check_slug(&slug));
    if let Some(description) = &body.description {
        checks.field("/description", check_text(description, 20_000));
    }
    checks.field("/tags", check_tags(&body.tags));
    checks.field("/option_types", check_option_types(&body.option_types));
    check_seo(&mut checks, &body.seo);
    if body.variants.len() > 100 {
        checks.push("/variants", "at most 100 variants");
    }
    for (i, variant) in body.variants.iter().enumerate() {
        check_variant(
            &mut checks,
            &format!("/variants/{i}"),
            variant,
            &body.option_types,
        );
    }

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (vendor, _) =
        vendor_for(&tx, &ctx, body.vendor_id, VendorPermission::ListingsWrite).await?;
    checks.finish()?;
    require_listing(&vendor)?;
    let limit = ctx.terms.limits.products;
    if repo::products::count(&tx).await? >= u64::from(limit) {
        return Err(Problem::limit_exceeded(format!(
            "the {} plan allows {limit} product(s)",
            ctx.terms.plan
        )));
    }
    check_category(&tx, body.category_id).await?;
    let attributes = attribute_values(&tx, &body.attributes).await?;
    let now = crate::domain::now();
    let mut product = Product {
        id: ProductId::new(),
        vendor: vendor.id,
        slug,
        title: body.title.trim().to_owned(),
        description: body.description,
        status: ProductStatus::Draft,
        status_reason: None,
        category: body.category_id,
        tags: normalize_tags(&body.tags),
        option_types: body
            .option_types
            .iter()
            .map(|t| t.trim().to_owned())
            .collect(),
        seo: body.seo,
        currency: None,
        min_price: 0,
        created_at: now,
        updated_at: now,
    };
    let variants: Vec<_> = body
        .variants
        .into_iter()
        .enumerate()
        .map(|(i, v)| variant_from(v, product.id, i as i32))
        .collect();
    check_all(&variants, "/variants/", 0)?;
    reprice(&mut product, &variants);
    repo::products::insert(&tx, &product)
        .await
        .map_err(|e| conflict_of(e, "product"))?;
    repo::variants::insert_many(&tx, &variants)
        .await
        .map_err(|e| conflict_of(e, "variant"))?;
    repo::attributes::replace_values(&tx, &[(product.id, attributes)]).await?;
    events::publish_changed(&tx, &[product.id]).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &ctx, product.id).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ManageListQuery {
    /// One vendor's products (vendor staff: one of theirs; default: all of theirs).
    pub vendor_id: Option<String>,
    /// `draft`, `pending_review` (the moderation queue), `active`, `rejected`, `archived`.
    pub status: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/catalog/products", tag = "catalog", params(ManageListQuery),
    responses((status = 200, description = "the products the caller manages, oldest first", body = ListResponse<ProductOut>),
        (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn list(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Query(query): Query<ManageListQuery>,
) -> Result<Json<ListResponse<ProductOut>>, Problem> {
    let page = mercato_kernel::ListQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let (limit, after) = page.page::<ProductId>()?;
    let status = match query.status.as_deref() {
        None => None,
        Some(code) => Some(ProductStatus::parse(code).ok_or_else(|| {
            Problem::invalid_field(
                "/status",
                "one of draft, pending_review, active, rejected, archived",
            )
        })?),
    };
    let vendor = match query.vendor_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<VendorId>()
                .map_err(|_| Problem::invalid_field("/vendor_id", "a vendor id (ven_…)"))?,
        ),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let vendors = match vendor {
        Some(id) => {
            vendor_for(&tx, &ctx, id, VendorPermission::Read).await?;
            Some(vec![id])
        }
        None if ctx.can(Permission::CatalogManage) => None,
        None => {
            let user = ctx.user()?;
            let mut mine: Vec<VendorId> = ctx.memberships().iter().map(|m| m.vendor).collect();
            for owned in repo::vendors::owned_by(&tx, user).await? {
                if is_vendor_staff(&ctx, &owned, VendorPermission::Read) {
                    mine.push(owned.id);
                }
            }
            if mine.is_empty() {
                return Err(Problem::forbidden(
                    "you manage no vendor's listings in this shop",
                ));
            }
            Some(mine)
        }
    };
    let filter = repo::products::ManageFilter { vendors, status };
    let rows = repo::products::list(&tx, &filter, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |p| p.id.to_string());
    let include = bundle::Include {
        media: true,
        stock: true,
    };
    let loaded = bundle::bundle_of(&tx, page.data, include).await?;
    let definitions = definitions(&tx).await?;
    let links =
        out::media_links(&state.storage, ctx.tenant, loaded.media.values().flatten()).await?;
    Ok(Json(ListResponse {
        data: loaded
            .products
            .iter()
            .map(|p| out::product_out(&loaded, p, &definitions, &links))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/catalog/products/{product_id}", tag = "catalog",
    params(("product_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 401), (status = 404)))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    product_for(&tx, &ctx, id, VendorPermission::Read).await?;
    Ok(Json(view_in(&state, &tx, &ctx, id).await?))
}

/// Product changes; absent fields stay, `null` clears an optional one. `attributes`, `tags`
/// and `seo` replace the whole value.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub title: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CategoryId>)]
    pub category_id: Option<Option<CategoryId>>,
    pub tags: Option<Vec<String>>,
    pub option_types: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
    pub seo: Option<Seo>,
}

#[utoipa::path(patch, path = "/api/v1/catalog/products/{product_id}", tag = "catalog",
    request_body = ProductPatch, params(("product_id" = String, Path)),
    responses((status = 200, body = ProductOut, description = "the product as changed. In a shop that moderates listings, a change by the vendor's staff to what shoppers see of an `active` product sends it back to `pending_review`: off sale until merchant staff approve it again"),
        (status = 401), (status = 403), (status = 404),
        (status = 409, description = "`slug_taken` or `vendor_not_selling`"), (status = 422)))]
pub async fn update(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Body(patch): Body<ProductPatch>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let mut checks = Checks::default();
    if let Some(title) = &patch.title {
        checks.field("/title", check_name(title, 200));
    }
    if let Some(slug) = &patch.slug {
        checks.field("/slug", check_slug(slug));
    }
    if let Some(Some(description)) = &patch.description {
        checks.field("/description", check_text(description, 20_000));
    }
    if let Some(tags) = &patch.tags {
        checks.field("/tags", check_tags(tags));
    }
    if let Some(types) = &patch.option_types {
        checks.field("/option_types", check_option_types(types));
    }
    if let Some(seo) = &patch.seo {
        check_seo(&mut checks, seo);
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut product, vendor, side) = product_to_change(&tx, &ctx, id).await?;
    checks.finish()?;
    require_listing(&vendor)?;
    let before = product.clone();
    if let Some(Some(category)) = patch.category_id {
        check_category(&tx, Some(category)).await?;
    }
    if let Some(types) = &patch.option_types {
        let types: Vec<String> = types.iter().map(|t| t.trim().to_owned()).collect();
        let variants = repo::variants::of_products(&tx, &[product.id]).await?;
        if let Some(v) = variants.iter().find(|v| {
            v.options.len() != types.len() || !types.iter().all(|t| v.options.contains_key(t))
        }) {
            return Err(Problem::invalid_field(
                "/option_types",
                format!(
                    "variant {} has options for other types; change the variants first",
                    v.sku
                ),
            ));
        }
        product.option_types = types;
    }
    let mut attributes_changed = false;
    if let Some(values) = &patch.attributes {
        let mut values = attribute_values(&tx, values).await?;
        values.sort();
        let mut stored: Vec<(String, String)> = repo::attributes::values_of(&tx, &[product.id])
            .await?
            .into_iter()
            .map(|(_, code, value)| (code, value))
            .collect();
        stored.sort();
        attributes_changed = values != stored;
        repo::attributes::replace_values(&tx, &[(product.id, values)]).await?;
    }
    if let Some(title) = patch.title {
        product.title = title.trim().to_owned();
    }
    if let Some(slug) = patch.slug {
        product.slug = slug;
    }
    if let Some(description) = patch.description {
        product.description = description;
    }
    if let Some(category) = patch.category_id {
        product.category = category;
    }
    if let Some(tags) = patch.tags {
        product.tags = normalize_tags(&tags);
    }
    if let Some(seo) = patch.seo {
        product.seo = seo;
    }
    let edit = Edit::shown_if(attributes_changed || before.shown_differs(&product));
    app::review::after_edit(&tx, &mut product, side, edit).await?;
    Ok(Json(save_and_show(&state, tx, &ctx, product).await?))
}

#[utoipa::path(delete, path = "/api/v1/catalog/products/{product_id}", tag = "catalog",
    params(("product_id" = String, Path)),
    responses((status = 204, description = "deleted with its variants and images"), (status = 401), (status = 403), (status = 404)))]
pub async fn remove(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id: ProductId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    product_for(&tx, &ctx, id, VendorPermission::ListingsWrite).await?;
    let include = bundle::Include {
        media: true,
        stock: false,
    };
    let loaded = bundle::load(&tx, &[id], include).await?;
    let product = loaded.products.first().ok_or_else(Problem::not_found)?;
    let mut snapshot = loaded.changed(product, true);
    snapshot.updated_at = crate::domain::now();
    repo::attributes::remove_values(&tx, &[id]).await?;
    repo::media::delete_of_product(&tx, id).await?;
    let freed: i64 = loaded
        .media_of(id)
        .iter()
        .map(|m| m.size_bytes.max(0))
        .sum();
    mercato_storage::quota::release(&tx, freed as u64).await?;
    repo::variants::delete_of_product(&tx, id).await?;
    repo::stock::delete_of_product(&tx, id).await?;
    repo::products::delete(&tx, id).await?;
    events::product_changed(&*tx, ctx.tenant, &[snapshot]).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    // The rows are gone; the objects go after (a failure leaves an orphan, never a dangling row).
    for media in loaded.media_of(id) {
        if let Ok(key) = mercato_storage::ObjectKey::parse(ctx.tenant, &media.object_key)
            && let Err(error) = state.storage.delete(&key).await
        {
            tracing::warn!(error = %error, key = %key, "could not delete a product image");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTransitionIn {
    /// publish, approve, reject, archive or restore.
    pub action: String,
    /// Required to reject; shown to the vendor.
    #[serde(default)]
    pub reason: Option<String>,
    /// The product's `updated_at` as the caller last saw it. Given, the action applies only
    /// to that version: a product changed since (its vendor edited it while it waited for
    /// review, say) is a 409 `product_changed`, so a reviewer approves what they saw.
    #[serde(default)]
    pub seen_updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(post, path = "/api/v1/catalog/products/{product_id}/transitions", tag = "catalog",
    request_body = ProductTransitionIn, params(("product_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 401),
        (status = 403, description = "moderation is the merchant's"), (status = 404),
        (status = 409, description = "`invalid_transition`, `no_variants`, `vendor_not_selling`, or `product_changed` (not as `seen_updated_at` says it was)"), (status = 422)))]
pub async fn transition(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Body(body): Body<ProductTransitionIn>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let action = ProductAction::parse(&body.action).ok_or_else(|| {
        Problem::invalid_field(
            "/action",
            "one of publish, approve, reject, archive, restore",
        )
    })?;
    let reason = parse_reason(body.reason.as_deref(), action.needs_reason())?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut product, vendor, side) = product_to_change(&tx, &ctx, id).await?;
    if action.merchant_only() && side != Side::Merchant {
        return Err(Problem::forbidden("moderating listings is the merchant's"));
    }
    product.check_seen(body.seen_updated_at)?;
    if matches!(action, ProductAction::Publish | ProductAction::Restore) {
        require_listing(&vendor)?;
    }
    let settings = repo::settings::get(&tx).await?;
    let to = product.plan(action, side, settings.require_listing_approval)?;
    if to == ProductStatus::Active || to == ProductStatus::PendingReview {
        let variants = repo::variants::of_products(&tx, &[product.id]).await?;
        if variants.is_empty() {
            return Err(Problem::of(
                CatalogProblem::NoVariants,
                "add at least one variant before publishing",
            ));
        }
    }
    product.status = to;
    product.status_reason = if action == ProductAction::Reject {
        reason.clone()
    } else {
        None
    };
    let moderated = match (action, to) {
        (ProductAction::Reject, _) => Some(events::PRODUCT_REJECTED),
        (ProductAction::Approve, _) => Some(events::PRODUCT_APPROVED),
        _ => None,
    };
    if let Some(name) = moderated {
        let payload = ProductModerated {
            product_id: product.id,
            vendor_id: product.vendor,
            slug: product.slug.clone(),
            title: product.title.clone(),
            reason,
            actor: ctx.actor.label(),
        };
        events::product_moderated(&*tx, ctx.tenant, name, &payload).await?;
    }
    Ok(Json(save_and_show(&state, tx, &ctx, product).await?))
}
