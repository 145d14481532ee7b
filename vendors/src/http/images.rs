//! A store's logo and banner: images uploaded as the request body, recognised by their
//! bytes, stored under the vendor's prefix; the old image is deleted once replaced. They
//! count against the plan's storage limit through vendors' running total per shop
//! ([`quota`]): added with the profile that references them, given back on deletion.

use super::vendor_to_change;
use super::vendors::VendorOut;
use crate::VendorsState;
use crate::domain::{Vendor, VendorStatus};
use crate::events;
use crate::problems::VendorsProblem;
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::put;
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, path_id};
use mercato_storage::{MediaType, ObjectKey, Owner, quota, validate_upload};
use mercato_tenant_context::{TenantContext, VendorId, VendorPermission};

pub fn router() -> Router<VendorsState> {
    Router::new().route(
        "/api/v1/vendors/{vendor_id}/images/{slot}",
        put(upload).delete(remove),
    )
}

/// The largest store image accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Where this service keeps the shop's files (store images, onboarding documents): what its
/// share of the plan's storage limit counts ([`quota`], ADR 0030).
pub const STORAGE_AREAS: &[&str] = &["store", "documents"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Logo,
    Banner,
}

impl Slot {
    fn parse(text: &str) -> Result<Self, Problem> {
        match text {
            "logo" => Ok(Self::Logo),
            "banner" => Ok(Self::Banner),
            _ => Err(Problem::not_found()),
        }
    }

    fn key_of(self, vendor: &mut Vendor) -> &mut Option<String> {
        match self {
            Self::Logo => &mut vendor.profile.logo_key,
            Self::Banner => &mut vendor.profile.banner_key,
        }
    }
}

/// Deletes a replaced or removed image and gives its bytes back to the shop's total. A
/// crash in between leaves the total too high, never too low (see the runbook to count it
/// again).
async fn delete_quietly(state: &VendorsState, ctx: &TenantContext, old: Option<String>) {
    let Some(old) = old else { return };
    let Ok(key) = ObjectKey::parse(ctx.tenant, &old) else {
        return;
    };
    let size = state.storage.head(&key).await.map(|info| info.size).ok();
    if let Err(e) = state.storage.delete(&key).await {
        tracing::warn!(error = %e, "a replaced store image was not deleted");
        return;
    }
    let Some(size) = size else { return };
    let released = async {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        quota::release(&tx, size).await?;
        tx.commit().await
    };
    if let Err(e) = released.await {
        tracing::warn!(error = %e, "a deleted store image's bytes were not given back");
    }
}

#[utoipa::path(put, path = "/api/v1/vendors/{vendor_id}/images/{slot}", tag = "vendors",
    request_body(content = Vec<u8>, description = "a JPEG, PNG, GIF or WebP image (read from its bytes)", content_type = "application/octet-stream"),
    params(("vendor_id" = String, Path), ("slot" = String, Path, description = "logo or banner")),
    responses((status = 200, body = VendorOut), (status = 403), (status = 404), (status = 402, description = "`plan_limit_exceeded`: the shop's plan has no room for the file"), (status = 413), (status = 415), (status = 422)))]
pub async fn upload(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, slot)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<VendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let slot = Slot::parse(&slot)?;
    let read = state.db.tenant_read(ctx.tenant).await?;
    vendor_to_change(&read, &ctx, id, VendorPermission::ProfileWrite).await?;
    let media =
        validate_upload(&body, &MediaType::IMAGES, MAX_IMAGE_BYTES).map_err(|e| e.to_problem())?;
    let (size, limit) = (body.len() as u64, ctx.terms.limits.storage_mb);
    drop(read);
    // Nothing is written for an upload the shop's total already refuses.
    let (db, storage) = (&state.db, &state.storage);
    quota::precheck(db, ctx.tenant, storage, STORAGE_AREAS, size, limit).await?;
    let key = ObjectKey::unique(
        ctx.tenant,
        Owner::Vendor(id),
        "store",
        Some(media.extension()),
    )
    .map_err(Problem::internal)?;
    state
        .storage
        .put(&key, body, media.mime())
        .await
        .map_err(|e| e.into_problem())?;

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::ProfileWrite).await?;
    let refused = if vendor.status == VendorStatus::Rejected {
        Err(Problem::of(
            VendorsProblem::VendorRejected,
            "a rejected vendor can no longer be changed",
        ))
    } else {
        // Counted with the profile that references it, under the shop's usage row lock.
        quota::reserve(&tx, &state.storage, STORAGE_AREAS, size, limit).await
    };
    if let Err(problem) = refused {
        drop(tx);
        let _ = state.storage.delete(&key).await;
        return Err(problem);
    }
    let old = slot.key_of(&mut vendor).replace(key.as_str().to_owned());
    vendor.updated_at = chrono::Utc::now();
    repo::vendors::update(&tx, &vendor).await?;
    events::vendor(&*tx, "vendor.updated", &vendor, None, &ctx.actor.label()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    delete_quietly(&state, &ctx, old).await;
    Ok(Json(VendorOut::render(vendor, &state.storage).await))
}

#[utoipa::path(delete, path = "/api/v1/vendors/{vendor_id}/images/{slot}", tag = "vendors",
    params(("vendor_id" = String, Path), ("slot" = String, Path, description = "logo or banner")),
    responses((status = 200, body = VendorOut), (status = 403), (status = 404)))]
pub async fn remove(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, slot)): Path<(String, String)>,
) -> Result<Json<VendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let slot = Slot::parse(&slot)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::ProfileWrite).await?;
    let old = slot.key_of(&mut vendor).take();
    if old.is_some() {
        vendor.updated_at = chrono::Utc::now();
        repo::vendors::update(&tx, &vendor).await?;
        events::vendor(&*tx, "vendor.updated", &vendor, None, &ctx.actor.label()).await?;
    }
    tx.commit().await?;
    state.outbox.notify_one();
    delete_quietly(&state, &ctx, old).await;
    Ok(Json(VendorOut::render(vendor, &state.storage).await))
}
