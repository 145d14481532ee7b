//! Warehouses, their stock levels, and adjustments to them with their history.

use super::idempotency::{self, Idempotency};
use super::{body_id, is_stock_reader, may_change, may_read, movement_problem, retrying};
use crate::InventoryState;
use crate::domain::stock::{Change, Reason, parse_note};
use crate::domain::warehouse::{Address, Warehouse, check_text};
use crate::domain::{AdjustmentId, ReservationId, WarehouseId};
use crate::movements::{self, AdjustmentRequest};
use crate::problems::InventoryProblem;
use crate::repo;
use crate::repo::stock::{Adjustment, StoredLevel};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, FieldError, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{ProductId, TenantContext, VariantId, VendorAccess, VendorId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<InventoryState> {
    Router::new()
        .route("/api/v1/warehouses", post(create).get(list))
        .route("/api/v1/warehouses/{warehouse_id}", get(show).patch(update))
        .route("/api/v1/warehouses/{warehouse_id}/stock", get(levels))
        .route(
            "/api/v1/warehouses/{warehouse_id}/adjustments",
            post(adjust).get(history),
        )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseIn {
    /// The vendor whose stock it holds (`ven_…`).
    pub vendor_id: String,
    /// Unique among the vendor's warehouses, e.g. `Hamburg`.
    pub name: String,
    pub address: Address,
    /// Whether it takes reservations (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarehouseOut {
    pub id: WarehouseId,
    pub vendor_id: VendorId,
    pub name: String,
    pub address: Address,
    /// Inactive warehouses keep their stock but take no new reservations.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Warehouse> for WarehouseOut {
    fn from(w: Warehouse) -> Self {
        Self {
            id: w.id,
            vendor_id: w.vendor,
            name: w.name,
            address: w.address,
            active: w.active,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

fn name_taken() -> Problem {
    Problem::of(
        InventoryProblem::WarehouseNameTaken,
        "the vendor has another warehouse with this name",
    )
}

fn check_address(checks: &mut Checks, address: &Address) {
    for (field, message) in address.problems("/address") {
        checks.push(&field, message);
    }
}

#[utoipa::path(post, path = "/api/v1/warehouses", tag = "inventory", request_body = WarehouseIn,
    responses((status = 201, body = WarehouseOut), (status = 401), (status = 403),
        (status = 404, description = "not the caller's vendor"),
        (status = 409, description = "name taken"), (status = 422)))]
pub async fn create(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Json(body): Json<WarehouseIn>,
) -> Result<(StatusCode, Json<WarehouseOut>), Problem> {
    let mut checks = Checks::default();
    let vendor: Option<VendorId> = body_id(&body.vendor_id, "/vendor_id", &mut checks.0);
    checks.field("/name", check_text(&body.name, 120));
    check_address(&mut checks, &body.address);
    checks.finish()?;
    let Some(vendor) = vendor else {
        return Err(Problem::invalid_field("/vendor_id", "not a vendor id"));
    };
    may_change(&ctx, vendor)?;
    let now = crate::movements::now();
    let warehouse = Warehouse {
        id: WarehouseId::new(),
        vendor,
        name: body.name.trim().to_owned(),
        address: body.address.trimmed(),
        active: body.active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    let (state, ctx, warehouse_ref) = (&state, &ctx, &warehouse);
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        // Merchant staff name any vendor: it must be one of the shop's. Vendor staff's
        // membership already says so.
        if ctx.vendor_role(vendor).is_none() && !repo::mirror::vendor_exists(&tx, vendor).await? {
            return Err(Problem::invalid_field(
                "/vendor_id",
                "no such vendor in this shop",
            ));
        }
        if let Err(e) = repo::warehouses::insert(&tx, warehouse_ref).await {
            return Err(if mercato_db::is_unique_violation(&e) {
                name_taken()
            } else {
                e.into()
            });
        }
        tx.commit().await?;
        Ok(())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(warehouse.into())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WarehouseListQuery {
    /// Only this vendor's warehouses.
    pub vendor_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/warehouses", tag = "inventory", params(WarehouseListQuery),
    responses((status = 200, description = "the warehouses of the vendors the caller works for; every vendor's for merchant staff", body = ListResponse<WarehouseOut>),
        (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Query(query): Query<WarehouseListQuery>,
) -> Result<Json<ListResponse<WarehouseOut>>, Problem> {
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<WarehouseId>()?;
    let vendor = match query.vendor_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<VendorId>()
                .map_err(|_| Problem::invalid_field("/vendor_id", "not a vendor id"))?,
        ),
    };
    let mine: Vec<VendorId> = ctx.memberships().iter().map(|m| m.vendor).collect();
    let vendors: Option<Vec<VendorId>> = match vendor {
        // Another vendor's list is empty for strangers, as if it had none.
        Some(v) if is_stock_reader(&ctx) || mine.contains(&v) => Some(vec![v]),
        Some(_) => Some(Vec::new()),
        None if is_stock_reader(&ctx) => None,
        None if !mine.is_empty() => Some(mine),
        None => {
            super::signed_in(&ctx)?;
            return Err(Problem::forbidden(
                "warehouses are for the shop's staff and its vendors",
            ));
        }
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::warehouses::list(&tx, vendors.as_deref(), after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |w| w.id.to_string());
    Ok(Json(ListResponse {
        data: page.data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The warehouse, if the caller may see it: another shop's or vendor's is a 404.
async fn visible(tx: &TenantTx, ctx: &TenantContext, id: &str) -> Result<Warehouse, Problem> {
    let id: WarehouseId = path_id(id)?;
    let warehouse = repo::warehouses::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    may_read(ctx, warehouse.vendor)?;
    Ok(warehouse)
}

#[utoipa::path(get, path = "/api/v1/warehouses/{warehouse_id}", tag = "inventory",
    params(("warehouse_id" = String, Path)),
    responses((status = 200, body = WarehouseOut), (status = 404)))]
pub async fn show(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<WarehouseOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(visible(&tx, &ctx, &id).await?.into()))
}

/// Changes to a warehouse; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehousePatch {
    pub name: Option<String>,
    pub address: Option<Address>,
    /// Switching a warehouse off keeps its stock but stops new reservations from it.
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/warehouses/{warehouse_id}", tag = "inventory", request_body = WarehousePatch,
    params(("warehouse_id" = String, Path)),
    responses((status = 200, body = WarehouseOut), (status = 403), (status = 404), (status = 409, description = "name taken"), (status = 422)))]
pub async fn update(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(patch): Json<WarehousePatch>,
) -> Result<Json<WarehouseOut>, Problem> {
    let mut checks = Checks::default();
    if let Some(name) = &patch.name {
        checks.field("/name", check_text(name, 120));
    }
    if let Some(address) = &patch.address {
        check_address(&mut checks, address);
    }
    checks.finish()?;
    let (state, ctx, id, patch) = (&state, &ctx, &id, &patch);
    let updated = retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        let mut warehouse = visible(&tx, ctx, id).await?;
        may_change(ctx, warehouse.vendor)?;
        let toggled = patch.active.is_some_and(|a| a != warehouse.active);
        if let Some(name) = &patch.name {
            warehouse.name = name.trim().to_owned();
        }
        if let Some(address) = &patch.address {
            warehouse.address = address.clone().trimmed();
        }
        if let Some(active) = patch.active {
            warehouse.active = active;
        }
        warehouse.updated_at = crate::movements::now();
        if let Err(e) = repo::warehouses::update(&tx, &warehouse).await {
            return Err(if mercato_db::is_unique_violation(&e) {
                name_taken()
            } else {
                e.into()
            });
        }
        if toggled {
            movements::warehouse_toggled(&tx, &warehouse).await?;
        }
        tx.commit().await?;
        if toggled {
            state.outbox.notify_one();
        }
        Ok(warehouse)
    })
    .await?;
    Ok(Json(updated.into()))
}

/// One variant's stock in one warehouse.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelOut {
    pub warehouse_id: WarehouseId,
    pub variant_id: VariantId,
    pub product_id: Option<ProductId>,
    pub sku: Option<String>,
    pub on_hand: i64,
    pub reserved: i64,
    /// On hand minus reserved.
    pub available: i64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl LevelOut {
    pub fn new(level: &StoredLevel, variant: Option<&crate::domain::Variant>) -> Self {
        Self {
            warehouse_id: level.warehouse,
            variant_id: level.variant,
            product_id: variant.map(|v| v.product),
            sku: variant.map(|v| v.sku.clone()),
            on_hand: level.level.on_hand,
            reserved: level.level.reserved,
            available: level.level.available(),
            updated_at: level.updated_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/warehouses/{warehouse_id}/stock", tag = "inventory",
    params(("warehouse_id" = String, Path), ListQuery),
    responses((status = 200, description = "the warehouse's stock levels, by variant", body = ListResponse<LevelOut>), (status = 404)))]
pub async fn levels(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<LevelOut>>, Problem> {
    let (limit, after) = query.page::<VariantId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let warehouse = visible(&tx, &ctx, &id).await?;
    let rows = repo::stock::in_warehouse(&tx, warehouse.id, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |l| l.variant.to_string());
    let ids: Vec<VariantId> = page.data.iter().map(|l| l.variant).collect();
    let variants = repo::mirror::find_variants(&tx, &ids).await?;
    Ok(Json(ListResponse {
        data: page
            .data
            .iter()
            .map(|l| LevelOut::new(l, variants.iter().find(|v| v.id == l.variant)))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    /// The variant (`var_…`) of this warehouse's vendor.
    pub variant_id: String,
    /// Units added (positive) or removed (negative). Give this or `on_hand`.
    pub delta: Option<i64>,
    /// On hand as counted (a stocktake): the delta is whatever gets there.
    pub on_hand: Option<i64>,
    /// `received`, `returned` (add stock), `damaged`, `lost` (remove stock), `correction`
    /// (either way).
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdjustmentOut {
    pub id: AdjustmentId,
    pub warehouse_id: WarehouseId,
    pub variant_id: VariantId,
    pub delta: i64,
    pub reason: Reason,
    pub note: Option<String>,
    pub on_hand_after: i64,
    /// The reservation a `sold` adjustment committed, or a `returned` one put back (a
    /// cancelled or refunded order).
    pub reservation_id: Option<ReservationId>,
    /// `usr_…`, `key_…`, `svc_orders` (orders paid, cancelled, refunded), or `system`.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<Adjustment> for AdjustmentOut {
    fn from(a: Adjustment) -> Self {
        Self {
            id: a.id,
            warehouse_id: a.warehouse,
            variant_id: a.variant,
            delta: a.delta,
            reason: a.reason,
            note: a.note,
            on_hand_after: a.on_hand_after,
            reservation_id: a.reservation,
            actor: a.actor,
            at: a.at,
        }
    }
}

/// An adjustment and the level it left.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdjustedOut {
    pub adjustment: AdjustmentOut,
    pub stock: LevelOut,
}

fn parse_adjustment(
    body: &AdjustmentIn,
) -> Result<(VariantId, Change, Reason, Option<String>), Problem> {
    let mut errors: Vec<FieldError> = Vec::new();
    let variant: Option<VariantId> = body_id(&body.variant_id, "/variant_id", &mut errors);
    let change = match (body.delta, body.on_hand) {
        (Some(delta), None) => Some(Change::Delta(delta)),
        (None, Some(on_hand)) if on_hand >= 0 => Some(Change::Count(on_hand)),
        (None, Some(_)) => {
            errors.push(FieldError::new("/on_hand", "a count cannot be negative"));
            None
        }
        _ => {
            errors.push(FieldError::new("/delta", "give either delta or on_hand"));
            None
        }
    };
    let reason = match Reason::parse(&body.reason) {
        Some(reason) if reason.is_manual() => Some(reason),
        _ => {
            errors.push(FieldError::new(
                "/reason",
                "one of received, returned, damaged, lost, correction",
            ));
            None
        }
    };
    let note = parse_note(body.note.as_deref()).unwrap_or_else(|message| {
        errors.push(FieldError::new("/note", message));
        None
    });
    match (variant, change, reason) {
        (Some(variant), Some(change), Some(reason)) if errors.is_empty() => {
            Ok((variant, change, reason, note))
        }
        _ => Err(Problem::validation(errors)),
    }
}

#[utoipa::path(post, path = "/api/v1/warehouses/{warehouse_id}/adjustments", tag = "inventory",
    request_body = AdjustmentIn,
    params(("warehouse_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key and body get the first answer and move nothing")),
    responses((status = 201, body = AdjustedOut), (status = 403), (status = 404),
        (status = 409, description = "on hand would drop below zero or below what is reserved"),
        (status = 422, description = "bad input, or a variant this warehouse's vendor does not sell")))]
pub async fn adjust(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AdjustmentIn>,
) -> Result<Response, Problem> {
    let (variant, change, reason, note) = parse_adjustment(&body)?;
    let actor = ctx.actor.label();
    let idempotency = Idempotency {
        key: idempotency::key_from(&headers)?,
        actor: actor.clone(),
        operation: "adjustments.create",
        request: serde_json::json!({
            "warehouse_id": id, "variant_id": variant, "delta": body.delta,
            "on_hand": body.on_hand, "reason": reason, "note": note,
        }),
    };
    let (state, ctx, id, idempotency, note, actor) =
        (&state, &ctx, &id, &idempotency, &note, &actor);
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        let warehouse = visible(&tx, ctx, id).await?;
        may_change(ctx, warehouse.vendor)?;
        if let Some(replay) = idempotency.replay(&tx).await? {
            return Ok(replay);
        }
        let now = crate::movements::now();
        let request = AdjustmentRequest {
            warehouse: &warehouse,
            variant,
            change,
            reason,
            note: note.clone(),
            actor,
        };
        let (adjustment, level) = movements::adjust(&tx, request, now)
            .await
            .map_err(movement_problem)?;
        let stored = StoredLevel {
            warehouse: warehouse.id,
            variant,
            level,
            updated_at: now,
        };
        let found = repo::mirror::find_variant(&tx, variant).await?;
        let out = AdjustedOut {
            adjustment: adjustment.into(),
            stock: LevelOut::new(&stored, found.as_ref()),
        };
        idempotency.store(&tx, StatusCode::CREATED, &out).await?;
        tx.commit().await?;
        state.outbox.notify_one();
        Ok((StatusCode::CREATED, Json(out)).into_response())
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this variant's adjustments.
    pub variant_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/warehouses/{warehouse_id}/adjustments", tag = "inventory",
    params(("warehouse_id" = String, Path), HistoryQuery),
    responses((status = 200, description = "the warehouse's adjustments, newest first", body = ListResponse<AdjustmentOut>), (status = 404)))]
pub async fn history(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<ListResponse<AdjustmentOut>>, Problem> {
    let (limit, before) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<AdjustmentId>()?;
    let variant = match query.variant_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<VariantId>()
                .map_err(|_| Problem::invalid_field("/variant_id", "not a variant id"))?,
        ),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let warehouse = visible(&tx, &ctx, &id).await?;
    let rows = repo::stock::history(&tx, warehouse.id, variant, before, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |a| a.id.to_string());
    Ok(Json(ListResponse {
        data: page.data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
