//! The onboarding checklist: the shop's configuration, a vendor's progress, the vendor
//! completing items and the merchant overriding them (recorded in the vendor's history).

use super::images::STORAGE_AREAS;
use super::{Standing, parse_reason, vendor_to_change, visible_vendor};
use crate::VendorsState;
use crate::domain::VendorStatus;
use crate::domain::checklist::{ChecklistItem, ItemKind, ItemState, check_items, missing_required};
use crate::events;
use crate::problems::VendorsProblem;
use crate::repo::history::{self, HistoryEntry};
use crate::repo::{self};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, path_id};
use mercato_storage::{MediaType, ObjectKey, Owner, quota, validate_upload};
use mercato_tenant_context::{Permission, TenantContext, VendorId, VendorPermission};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<VendorsState> {
    Router::new()
        .route("/api/v1/vendor-checklist", get(config).put(configure))
        .route("/api/v1/vendors/{vendor_id}/checklist", get(progress))
        .route(
            "/api/v1/vendors/{vendor_id}/checklist/{code}",
            put(complete),
        )
        .route(
            "/api/v1/vendors/{vendor_id}/checklist/{code}/override",
            post(override_item),
        )
        .route(
            "/api/v1/vendors/{vendor_id}/checklist/{code}/document",
            post(upload_document).get(document_link),
        )
}

/// Documents vendors may upload for a checklist item, recognised by their bytes.
const DOCUMENT_TYPES: &[MediaType] = &[MediaType::Pdf, MediaType::Jpeg, MediaType::Png];
/// The largest document accepted (the gateway's body limit may be lower).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// How long a document link works.
const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(300);

#[utoipa::path(post, path = "/api/v1/vendors/{vendor_id}/checklist/{code}/document", tag = "vendors",
    request_body(content = Vec<u8>, description = "the file itself (PDF, JPEG or PNG); its type is read from its bytes", content_type = "application/octet-stream"),
    params(("vendor_id" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = ChecklistProgressOut), (status = 403), (status = 404),
        (status = 409, description = "the vendor was rejected"), (status = 402, description = "`plan_limit_exceeded`: the shop's plan has no room for the file"), (status = 413), (status = 415), (status = 422)))]
pub async fn upload_document(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, code)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<ChecklistProgressOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    // Authorise before reading what was sent.
    let read = state.db.tenant_read(ctx.tenant).await?;
    let (vendor, _) = vendor_to_change(&read, &ctx, id, VendorPermission::ProfileWrite).await?;
    let item = item_named(repo::checklist::items(&read).await?, &code)?;
    if vendor.status == VendorStatus::Rejected {
        return Err(Problem::of(
            VendorsProblem::VendorRejected,
            "a rejected vendor can no longer be changed",
        ));
    }
    if item.kind != ItemKind::Document {
        return Err(Problem::invalid_field(
            "/",
            "this item is not a document; complete it with PUT",
        ));
    }
    let media =
        validate_upload(&body, DOCUMENT_TYPES, MAX_DOCUMENT_BYTES).map_err(|e| e.to_problem())?;
    let (size, limit) = (body.len() as u64, ctx.terms.limits.storage_mb);
    drop(read);
    // Nothing is written for an upload the shop's total already refuses.
    let (db, storage) = (&state.db, &state.storage);
    quota::precheck(db, ctx.tenant, storage, STORAGE_AREAS, size, limit).await?;
    let key = ObjectKey::unique(
        ctx.tenant,
        Owner::Vendor(vendor.id),
        "documents",
        Some(media.extension()),
    )
    .map_err(Problem::internal)?;
    // The object is written before the row that points at it: a crash in between leaves an
    // unreferenced object, never a row pointing at nothing.
    state
        .storage
        .put(&key, body, media.mime())
        .await
        .map_err(|e| e.into_problem())?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    // Counted with the row that references it, under the shop's usage row lock.
    if let Err(problem) = quota::reserve(&tx, &state.storage, STORAGE_AREAS, size, limit).await {
        drop(tx);
        let _ = state.storage.delete(&key).await;
        return Err(problem);
    }
    repo::checklist::complete(
        &tx,
        vendor.id,
        &item.code,
        None,
        Some(key.as_str().to_owned()),
        &ctx.actor.label(),
    )
    .await?;
    let out = progress_of(&tx, vendor.id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentLink {
    /// Fetches the document without other credentials until `expires_at`.
    pub url: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}/checklist/{code}/document", tag = "vendors",
    params(("vendor_id" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = DocumentLink), (status = 404, description = "no such vendor, item or document")))]
pub async fn document_link(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, code)): Path<(String, String)>,
) -> Result<Json<DocumentLink>, Problem> {
    let id: VendorId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (vendor, standing) = visible_vendor(&tx, &ctx, id).await?;
    if standing == Standing::Public {
        return Err(Problem::not_found());
    }
    let stored = repo::checklist::progress(&tx, vendor.id)
        .await?
        .into_iter()
        .find(|p| p.code == code)
        .and_then(|p| p.document_key)
        .ok_or_else(Problem::not_found)?;
    drop(tx);
    let key = ObjectKey::parse(ctx.tenant, &stored).map_err(Problem::internal)?;
    let url = state
        .storage
        .download_url(&key, LINK_TTL)
        .await
        .map_err(|e| e.into_problem())?;
    Ok(Json(DocumentLink {
        url,
        expires_at: chrono::Utc::now() + chrono::Duration::seconds(LINK_TTL.as_secs() as i64),
    }))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistConfig {
    pub items: Vec<ChecklistItem>,
}

#[utoipa::path(get, path = "/api/v1/vendor-checklist", tag = "vendors",
    responses((status = 200, description = "what this shop asks of vendors (public: applicants read it)", body = ChecklistConfig)))]
pub async fn config(
    State(state): State<VendorsState>,
    ctx: TenantContext,
) -> Result<Json<ChecklistConfig>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(ChecklistConfig {
        items: repo::checklist::items(&tx).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/vendor-checklist", tag = "vendors", request_body = ChecklistConfig,
    responses((status = 200, body = ChecklistConfig), (status = 403), (status = 422)))]
pub async fn configure(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Json(body): Json<ChecklistConfig>,
) -> Result<Json<ChecklistConfig>, Problem> {
    ctx.require(Permission::VendorsManage)?;
    check_items(&body.items)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    repo::checklist::replace(&tx, &body.items).await?;
    let items = repo::checklist::items(&tx).await?;
    tx.commit().await?;
    Ok(Json(ChecklistConfig { items }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemProgressOut {
    pub code: String,
    pub label: String,
    pub kind: ItemKind,
    pub required: bool,
    pub state: ItemState,
    /// What the vendor entered (text items; `"accepted"` for confirmations).
    pub value: Option<String>,
    /// Whether a document is on file (document items).
    pub has_document: bool,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_by: Option<String>,
    pub override_reason: Option<String>,
    pub overridden_by: Option<String>,
    pub overridden_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistProgressOut {
    pub items: Vec<ItemProgressOut>,
    /// Codes of required items neither completed nor overridden.
    pub missing: Vec<String>,
    /// Whether the vendor may submit for review.
    pub complete: bool,
}

async fn progress_of(
    tx: &mercato_db::TenantTx,
    vendor: VendorId,
) -> Result<ChecklistProgressOut, Problem> {
    let items = repo::checklist::items(tx).await?;
    let progress = repo::checklist::progress(tx, vendor).await?;
    let state_of = |code: &str| {
        progress
            .iter()
            .find(|p| p.code == code)
            .map_or(ItemState::Missing, |p| p.state)
    };
    let missing: Vec<String> = missing_required(&items, state_of)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let out = items
        .into_iter()
        .map(|item| {
            let p = progress.iter().find(|p| p.code == item.code);
            ItemProgressOut {
                state: state_of(&item.code),
                value: p.and_then(|p| p.value.clone()),
                has_document: p.is_some_and(|p| p.document_key.is_some()),
                completed_at: p.and_then(|p| p.completed_at),
                completed_by: p.and_then(|p| p.completed_by.clone()),
                override_reason: p.and_then(|p| p.override_reason.clone()),
                overridden_by: p.and_then(|p| p.overridden_by.clone()),
                overridden_at: p.and_then(|p| p.overridden_at),
                code: item.code,
                label: item.label,
                kind: item.kind,
                required: item.required,
            }
        })
        .collect();
    Ok(ChecklistProgressOut {
        complete: missing.is_empty(),
        items: out,
        missing,
    })
}

#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}/checklist", tag = "vendors",
    params(("vendor_id" = String, Path)),
    responses((status = 200, body = ChecklistProgressOut), (status = 404)))]
pub async fn progress(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ChecklistProgressOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (vendor, standing) = visible_vendor(&tx, &ctx, id).await?;
    if standing == Standing::Public {
        return Err(Problem::not_found());
    }
    Ok(Json(progress_of(&tx, vendor.id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// For text items.
    #[serde(default)]
    pub value: Option<String>,
    /// For confirmation items: must be `true`.
    #[serde(default)]
    pub accepted: Option<bool>,
}

fn item_named(items: Vec<ChecklistItem>, code: &str) -> Result<ChecklistItem, Problem> {
    items
        .into_iter()
        .find(|item| item.code == code)
        .ok_or_else(Problem::not_found)
}

#[utoipa::path(put, path = "/api/v1/vendors/{vendor_id}/checklist/{code}", tag = "vendors",
    request_body = ItemIn, params(("vendor_id" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = ChecklistProgressOut), (status = 403), (status = 404),
        (status = 409, description = "the vendor was rejected"), (status = 422)))]
pub async fn complete(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, code)): Path<(String, String)>,
    Json(body): Json<ItemIn>,
) -> Result<Json<ChecklistProgressOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::ProfileWrite).await?;
    if vendor.status == VendorStatus::Rejected {
        return Err(Problem::of(
            VendorsProblem::VendorRejected,
            "a rejected vendor can no longer be changed",
        ));
    }
    let item = item_named(repo::checklist::items(&tx).await?, &code)?;
    let value = match item.kind {
        ItemKind::Text => {
            let value = body.value.as_deref().map(str::trim).unwrap_or_default();
            if value.is_empty()
                || value.chars().count() > 500
                || value.chars().any(char::is_control)
            {
                return Err(Problem::invalid_field(
                    "/value",
                    "1-500 characters, no control characters",
                ));
            }
            value.to_owned()
        }
        ItemKind::Confirmation => {
            if body.accepted != Some(true) {
                return Err(Problem::invalid_field("/accepted", "must be true"));
            }
            "accepted".to_owned()
        }
        ItemKind::Document => {
            return Err(Problem::invalid_field(
                "/",
                "document items are completed by uploading the document",
            ));
        }
        ItemKind::PayoutAccount => {
            return Err(Problem::invalid_field(
                "/",
                "this item is completed by saving a payout account",
            ));
        }
    };
    repo::checklist::complete(
        &tx,
        vendor.id,
        &item.code,
        Some(value),
        None,
        &ctx.actor.label(),
    )
    .await?;
    let out = progress_of(&tx, vendor.id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideIn {
    /// Why the merchant accepts the item without (or despite) the vendor's input.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/vendors/{vendor_id}/checklist/{code}/override", tag = "vendors",
    request_body = OverrideIn, params(("vendor_id" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = ChecklistProgressOut), (status = 403), (status = 404), (status = 422)))]
pub async fn override_item(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path((id, code)): Path<(String, String)>,
    Json(body): Json<OverrideIn>,
) -> Result<Json<ChecklistProgressOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let reason = parse_reason(Some(&body.reason), true)?.unwrap_or_default();
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::Read).await?;
    ctx.require(Permission::VendorsManage)?;
    let item = item_named(repo::checklist::items(&tx).await?, &code)?;
    let actor = ctx.actor.label();
    repo::checklist::override_item(&tx, vendor.id, &item.code, &reason, &actor).await?;
    history::record(
        &tx,
        &HistoryEntry {
            id: uuid::Uuid::now_v7(),
            vendor: vendor.id,
            action: format!("checklist_override:{}", item.code),
            from_status: Some(vendor.status.code().into()),
            to_status: vendor.status.code().into(),
            reason: Some(reason.clone()),
            actor: actor.clone(),
            at: chrono::Utc::now(),
        },
    )
    .await?;
    events::publish(
        &*tx,
        events::VENDOR_CHECKLIST_OVERRIDDEN,
        ctx.tenant,
        &serde_json::json!({
            "vendor_id": vendor.id, "code": item.code, "reason": reason, "actor": actor,
        }),
    )
    .await?;
    let out = progress_of(&tx, vendor.id).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(out))
}
