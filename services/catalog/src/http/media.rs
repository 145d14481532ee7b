//! Product images: uploaded as the raw body (recognised by their bytes, not their name),
//! stored under `shops/<shop>/vendors/<vendor>/products/`, shown in the order kept here.
//!
//! A new image is something shoppers have not seen: in a shop that moderates listings, the
//! vendor's staff uploading one to an active product send it back to `pending_review`
//! ([`crate::app::review`]), and the upload touches the product (`updated_at`,
//! `product.changed`) so a reviewer can tell it changed. Removing an image or reordering
//! them shows nothing new, and does neither.
//!
//! Images count against the plan's storage limit through catalog's running total per shop
//! ([`quota`], ADR 0030): added with the image's row, given back with its removal.

use super::out::ProductOut;
use super::products::{save_and_show, view};
use super::{product_for, product_to_change, require_listing};
use crate::domain::MediaId;
use crate::domain::product::Edit;
use crate::problems::CatalogProblem;
use crate::repo::{self, media::Media};
use crate::{CatalogState, app};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post, put};
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, path_id};
use mercato_storage::{MediaType, ObjectKey, Owner, quota, validate_upload};
use mercato_tenant_context::{ProductId, TenantContext, VendorPermission};
use serde::Deserialize;

/// The largest image accepted (the gateway's body limit may be lower).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// Images per product.
pub const MAX_IMAGES: usize = 20;
/// Where this service keeps the shop's files: what its share of the plan's storage limit
/// counts ([`quota`]).
pub const STORAGE_AREAS: &[&str] = &["products"];

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/catalog/products/{product_id}/media", post(upload))
        .route(
            "/api/v1/catalog/products/{product_id}/media/order",
            put(reorder),
        )
        .route(
            "/api/v1/catalog/products/{product_id}/media/{media_id}",
            delete(remove),
        )
}

#[utoipa::path(post, path = "/api/v1/catalog/products/{product_id}/media", tag = "catalog",
    request_body(content = Vec<u8>, description = "the image itself (JPEG, PNG, GIF or WebP); its type is read from its bytes", content_type = "application/octet-stream"),
    params(("product_id" = String, Path)),
    responses((status = 201, description = "the product with the image last. In a shop that moderates listings, the vendor's staff adding an image to an `active` product send it back to `pending_review`: off sale until merchant staff approve it again", body = ProductOut), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "20 images already, or the vendor may not list"), (status = 402, description = "`plan_limit_exceeded`: the shop's plan has no room for the file"), (status = 413), (status = 415, description = "not an image"), (status = 422, description = "empty")))]
pub async fn upload(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ProductOut>), Problem> {
    let id: ProductId = path_id(&id)?;
    // Authorise before looking at what was sent.
    let read = state.db.tenant_read(ctx.tenant).await?;
    let (product, vendor, _) =
        product_for(&read, &ctx, id, VendorPermission::ListingsWrite).await?;
    require_listing(&vendor)?;
    let media =
        validate_upload(&body, &MediaType::IMAGES, MAX_IMAGE_BYTES).map_err(|e| e.to_problem())?;
    drop(read);
    // Nothing is written for an upload the shop's total already refuses.
    let limit = ctx.terms.limits.storage_mb;
    quota::precheck(
        &state.db,
        ctx.tenant,
        &state.storage,
        STORAGE_AREAS,
        body.len() as u64,
        limit,
    )
    .await?;
    let key = ObjectKey::unique(
        ctx.tenant,
        Owner::Vendor(product.vendor),
        "products",
        Some(media.extension()),
    )
    .map_err(Problem::internal)?;
    let size = body.len() as i64;
    // The object is written before the row that points at it: a crash in between leaves an
    // unreferenced object, never a row pointing at nothing.
    state
        .storage
        .put(&key, body, media.mime())
        .await
        .map_err(|e| e.into_problem())?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    // Still there, still theirs?
    let (mut product, _, side) = product_to_change(&tx, &ctx, id).await?;
    let existing = repo::media::of_products(&tx, &[id]).await?;
    let refused = if existing.len() >= MAX_IMAGES {
        Err(Problem::of(
            CatalogProblem::TooManyImages,
            format!("a product has at most {MAX_IMAGES} images"),
        ))
    } else {
        // Counted with the row that references it, under the shop's usage row lock.
        quota::reserve(&tx, &state.storage, STORAGE_AREAS, size as u64, limit).await
    };
    if let Err(problem) = refused {
        drop(tx);
        let _ = state.storage.delete(&key).await;
        return Err(problem);
    }
    let position = existing.iter().map(|m| m.position).max().unwrap_or(-1) + 1;
    repo::media::insert(
        &tx,
        &Media {
            id: MediaId::new(),
            product: id,
            object_key: key.as_str().to_owned(),
            content_type: media.mime().to_owned(),
            size_bytes: size,
            position,
            created_at: crate::domain::now(),
        },
    )
    .await?;
    app::review::after_edit(&tx, &mut product, side, Edit::Shown).await?;
    let out = save_and_show(&state, tx, &ctx, product).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaOrderIn {
    /// Every image of the product, in the order to show them.
    pub media_ids: Vec<MediaId>,
}

#[utoipa::path(put, path = "/api/v1/catalog/products/{product_id}/media/order", tag = "catalog",
    request_body = MediaOrderIn, params(("product_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 401), (status = 403), (status = 404),
        (status = 422, description = "not exactly the product's images")))]
pub async fn reorder(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    super::body::Body(body): super::body::Body<MediaOrderIn>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (_, vendor, _) = product_for(&tx, &ctx, id, VendorPermission::ListingsWrite).await?;
    require_listing(&vendor)?;
    let existing = repo::media::of_products(&tx, &[id]).await?;
    let mut wanted = body.media_ids.clone();
    wanted.sort();
    wanted.dedup();
    let mut have: Vec<MediaId> = existing.iter().map(|m| m.id).collect();
    have.sort();
    if wanted.len() != body.media_ids.len() || wanted != have {
        return Err(Problem::invalid_field(
            "/media_ids",
            "list every image of this product exactly once",
        ));
    }
    for (position, media) in body.media_ids.iter().enumerate() {
        repo::media::set_position(&tx, *media, position as i32).await?;
    }
    tx.commit().await?;
    Ok(Json(view(&state, &ctx, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/catalog/products/{product_id}/media/{media_id}", tag = "catalog",
    params(("product_id" = String, Path), ("media_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 401), (status = 403), (status = 404)))]
pub async fn remove(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path((id, media_id)): Path<(String, String)>,
) -> Result<Json<ProductOut>, Problem> {
    let id: ProductId = path_id(&id)?;
    let media_id: MediaId = path_id(&media_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (_, vendor, _) = product_for(&tx, &ctx, id, VendorPermission::ListingsWrite).await?;
    require_listing(&vendor)?;
    let existing = repo::media::of_products(&tx, &[id]).await?;
    let media = existing
        .iter()
        .find(|m| m.id == media_id)
        .ok_or_else(Problem::not_found)?;
    repo::media::delete(&tx, media_id).await?;
    quota::release(&tx, media.size_bytes.max(0) as u64).await?;
    tx.commit().await?;
    if let Ok(key) = ObjectKey::parse(ctx.tenant, &media.object_key)
        && let Err(error) = state.storage.delete(&key).await
    {
        tracing::warn!(error = %error, key = %key, "could not delete a product image");
    }
    Ok(Json(view(&state, &ctx, id).await?))
}
