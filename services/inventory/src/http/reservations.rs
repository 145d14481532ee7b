//! Reservations: hold units for a checkout, then commit (on payment) or release (on cancel).
//!
//! Holding units takes them from every other shopper, and committing takes them off hand for
//! good, so only those answerable for the stock may: the orders service acting as itself
//! (shoppers hold stock only through a cart's checkout, which orders prices and expires),
//! merchant staff with `catalog:manage`, and a vendor's staff with `vendor.stock:write` for
//! that vendor's variants only. Each sees and ends the reservations it made (a vendor's staff
//! while those variants are still its vendor's); merchant staff who may see stock
//! (`vendors:read`) see every one, and those who may change it end any. Everyone else —
//! shoppers, anonymous callers, keys and staff without stock rights, another shop's callers —
//! gets 404, as does a vendor's staff naming another vendor's variant: nothing is reserved.

use super::idempotency::{self, Idempotency};
use super::{
    body_id, is_orders_service, is_stock_manager, is_stock_reader, movement_problem, retrying,
    stock_vendors,
};
use crate::InventoryState;
use crate::domain::ReservationId;
use crate::domain::reservation::{
    self, Allocation, Line, MAX_LINES, Reservation, Status, check_quantity, check_reference,
};
use crate::movements::{self, End, Ended, MovementError, ReservationRequest};
use crate::problems::InventoryProblem;
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mercato_db::TenantTx;
pub use mercato_inventory_api::reservations::{ReservationIn, ReservationLineIn};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{Permission, TenantContext, VariantId, VendorId};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn router() -> Router<InventoryState> {
    Router::new()
        .route("/api/v1/reservations", post(create).get(list))
        .route("/api/v1/reservations/{reservation_id}", get(show))
        .route("/api/v1/reservations/{reservation_id}/commit", post(commit))
        .route(
            "/api/v1/reservations/{reservation_id}/release",
            post(release),
        )
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReservedLineOut {
    pub variant_id: VariantId,
    pub quantity: i64,
    /// Where the units are held, most first.
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReservationOut {
    pub id: ReservationId,
    pub status: Status,
    pub reference: Option<String>,
    /// `usr_…`, `key_…` or `svc_orders`.
    pub created_by: String,
    pub lines: Vec<ReservedLineOut>,
    /// Until then the units are held; then the reservation expires and releases them.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was committed, released or expired, and by whom (`system` for expiry).
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ended_by: Option<String>,
}

impl From<Reservation> for ReservationOut {
    fn from(r: Reservation) -> Self {
        Self {
            id: r.id,
            status: r.status,
            reference: r.reference,
            created_by: r.created_by,
            lines: r
                .lines
                .into_iter()
                .map(|l| ReservedLineOut {
                    variant_id: l.variant,
                    quantity: l.quantity,
                    allocations: l.allocations,
                })
                .collect(),
            expires_at: r.expires_at,
            created_at: r.created_at,
            ended_at: r.ended_at,
            ended_by: r.ended_by,
        }
    }
}

/// The request's lines, TTL and reference, checked; every bad field named at once.
fn parse(body: &ReservationIn) -> Result<(Vec<Line>, chrono::Duration, Option<String>), Problem> {
    let mut errors = Vec::new();
    if body.lines.is_empty() || body.lines.len() > MAX_LINES {
        errors.push(FieldError::new("/lines", "1 to 100 lines"));
    }
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, line) in body.lines.iter().enumerate() {
        let variant: Option<VariantId> = body_id(
            &line.variant_id,
            &format!("/lines/{i}/variant_id"),
            &mut errors,
        );
        if let Err(m) = check_quantity(line.quantity) {
            errors.push(FieldError::new(format!("/lines/{i}/quantity"), m));
        }
        if let Some(variant) = variant {
            if lines.iter().any(|l: &Line| l.variant == variant) {
                errors.push(FieldError::new(
                    format!("/lines/{i}/variant_id"),
                    "each variant once: add the quantities up",
                ));
            }
            lines.push(Line {
                variant,
                quantity: line.quantity,
            });
        }
    }
    let ttl = reservation::ttl(body.ttl_seconds).unwrap_or_else(|m| {
        errors.push(FieldError::new("/ttl_seconds", m));
        chrono::Duration::zero()
    });
    if let Some(reference) = &body.reference
        && let Err(m) = check_reference(reference)
    {
        errors.push(FieldError::new("/reference", m));
    }
    if errors.is_empty() {
        Ok((lines, ttl, body.reference.clone()))
    } else {
        Err(Problem::validation(errors))
    }
}

/// Whose variants a caller may hold in reservations.
enum Holds {
    /// No one's: shoppers, keys and staff without stock rights.
    Nothing,
    /// Any vendor's: the orders service (checkouts) and merchant staff with `catalog:manage`.
    Any,
    /// Only these vendors': their staff with `vendor.stock:write`.
    Only(Vec<VendorId>),
}

/// What a caller may do with the shop's reservations.
struct Access {
    holds: Holds,
    /// Merchant staff who may see stock: every reservation.
    sees_all: bool,
    /// Merchant staff who may change stock: commit or release any reservation.
    ends_all: bool,
}

/// The caller's rights over reservations; 404 for those with none (the endpoints do not
/// exist for them). Decided from the signed context alone: no statement is run.
fn access(ctx: &TenantContext) -> Result<Access, Problem> {
    let ends_all = is_stock_manager(ctx);
    let holds = if ends_all || is_orders_service(ctx) {
        Holds::Any
    } else {
        match stock_vendors(ctx) {
            own if own.is_empty() => Holds::Nothing,
            own => Holds::Only(own),
        }
    };
    let sees_all = is_stock_reader(ctx);
    if matches!(holds, Holds::Nothing) && !sees_all {
        return Err(Problem::not_found());
    }
    Ok(Access {
        holds,
        sees_all,
        ends_all,
    })
}

/// 403 for merchant staff who see reservations but may not change stock.
fn may_not_change() -> Problem {
    Problem::forbidden(format!(
        "your role does not grant `{}`",
        Permission::CatalogManage.name()
    ))
}

/// Of `reservations`, those holding only variants of `vendors` (one read of the variant
/// mirror for them all): a vendor's staff keeps no hold on stock its vendor no longer has.
async fn of_vendors(
    tx: &TenantTx,
    reservations: Vec<Reservation>,
    vendors: &[VendorId],
) -> Result<Vec<Reservation>, DbErr> {
    let mut ids: Vec<VariantId> = reservations
        .iter()
        .flat_map(Reservation::variants)
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(reservations);
    }
    let vendor_of: HashMap<VariantId, VendorId> = repo::mirror::find_variants(tx, &ids)
        .await?
        .into_iter()
        .map(|v| (v.id, v.vendor))
        .collect();
    Ok(reservations
        .into_iter()
        .filter(|r| {
            r.variants().iter().all(|v| {
                vendor_of
                    .get(v)
                    .is_some_and(|vendor| vendors.contains(vendor))
            })
        })
        .collect())
}

/// Is `reservation` the caller's own: made by it, of stock it may still hold?
async fn owns(
    tx: &TenantTx,
    ctx: &TenantContext,
    access: &Access,
    reservation: &Reservation,
) -> Result<bool, DbErr> {
    if reservation.created_by != ctx.actor.label() {
        return Ok(false);
    }
    match &access.holds {
        Holds::Nothing => Ok(false),
        Holds::Any => Ok(true),
        Holds::Only(vendors) => Ok(!of_vendors(tx, vec![reservation.clone()], vendors)
            .await?
            .is_empty()),
    }
}

/// The answer to a create repeated with the key (or reference) of one that went through: the
/// reservation it made as it is now — released, expired or committed since, maybe — with the
/// first answer's status and `Idempotent-Replayed: true`. A stored `active` given back after
/// a release would tell the client it holds units it does not.
async fn replay(tx: &TenantTx, idempotency: &Idempotency) -> Result<Option<Response>, Problem> {
    let Some(stored) = idempotency.stored(tx).await? else {
        return Ok(None);
    };
    let id = stored.response["id"]
        .as_str()
        .and_then(|id| id.parse::<ReservationId>().ok());
    let current = match id {
        Some(id) => repo::reservations::find(tx, id).await?,
        None => None,
    };
    let body = match current {
        Some(reservation) => serde_json::to_value(ReservationOut::from(reservation))?,
        // Reservations are never deleted; should one be missing, the stored answer is all
        // there is to give.
        None => stored.response,
    };
    Ok(Some(idempotency::replayed(stored.status, body)))
}

#[utoipa::path(post, path = "/api/v1/reservations", tag = "inventory", request_body = ReservationIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key and body reserve nothing more and get the reservation made by the first")),
    responses((status = 201, description = "reserved. A retry with the same key or reference gets 201 again, with `Idempotent-Replayed: true`, showing the reservation as it is now (`released`, `expired` or `committed` if it has ended since); it reserves nothing more", body = ReservationOut),
        (status = 403, description = "merchant staff who may see stock but not change it"),
        (status = 404, description = "the caller may not hold stock (only the orders service, merchant staff with `catalog:manage` and a vendor's staff with `vendor.stock:write` may: shoppers reserve through a checkout), or a vendor's staff named another vendor's variant; nothing was reserved"),
        (status = 409, description = "`insufficient_stock` for the lines named in `errors`; `vendor_not_selling` (a line of a suspended or rejected vendor); or `vendor_on_holiday` (a line of a vendor on holiday today, UTC: `detail` and each line's error in `errors` name the day it takes orders again, the day after its `holiday_until`). Nothing was reserved"),
        (status = 422, description = "bad input: quantities, unknown variants, a TTL over an hour, a reused key"),
        (status = 503, description = "too busy; retry after the `Retry-After` seconds")))]
pub async fn create(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    headers: HeaderMap,
    body: Result<Json<ReservationIn>, Problem>,
) -> Result<Response, Problem> {
    // Who comes first: a caller who may not hold stock learns nothing from its body.
    let access = access(&ctx)?;
    let vendors = match &access.holds {
        Holds::Nothing => return Err(may_not_change()),
        Holds::Any => None,
        Holds::Only(vendors) => Some(vendors.as_slice()),
    };
    let Json(body) = body?;
    let (lines, ttl, reference) = parse(&body)?;
    let key = idempotency::key_from(&headers)?;
    let actor = ctx.actor.label();
    let idempotency = Idempotency {
        key: key.or_else(|| reference.as_ref().map(|r| format!("reference:{r}"))),
        actor: actor.clone(),
        operation: "reservations.create",
        request: serde_json::json!({
            "lines": lines.iter().map(|l| serde_json::json!({"variant_id": l.variant, "quantity": l.quantity})).collect::<Vec<_>>(),
            "ttl_seconds": ttl.num_seconds(),
            "reference": reference,
        }),
    };
    // The key is looked up only when this request cannot go through as new: the reservation
    // is refused (its units may be the ones this key's first request holds), or storing the
    // key found it taken (the retry replays). A new key, the usual case, costs no read.
    let taken = AtomicBool::new(false);
    let (state, ctx, idempotency, actor, lines, reference, taken) = (
        &state,
        &ctx,
        &idempotency,
        &actor,
        &lines,
        &reference,
        &taken,
    );
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        if taken.load(Ordering::Relaxed)
            && let Some(replay) = replay(&tx, idempotency).await?
        {
            return Ok(replay);
        }
        let request = ReservationRequest {
            lines,
            ttl,
            reference: reference.clone(),
            actor,
            vendors,
            sweeps: &state.sweeps,
        };
        let reservation = match movements::reserve(&tx, request, crate::movements::now()).await {
            Ok(reservation) => reservation,
            Err(MovementError::Db(e)) => return Err(e.into()),
            Err(refused) => {
                return match replay(&tx, idempotency).await? {
                    Some(replay) => Ok(replay),
                    None => Err(movement_problem(refused)),
                };
            }
        };
        let out = ReservationOut::from(reservation);
        if let Err(problem) = idempotency.store(&tx, StatusCode::CREATED, &out).await {
            taken.store(true, Ordering::Relaxed);
            return Err(problem);
        }
        tx.commit().await?;
        state.outbox.notify_one();
        Ok((StatusCode::CREATED, Json(out)).into_response())
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReservationListQuery {
    /// `active`, `committed`, `released` or `expired`.
    pub status: Option<String>,
    pub reference: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reservations", tag = "inventory", params(ReservationListQuery),
    responses((status = 200, description = "the caller's own reservations (a vendor's staff: of its vendor's variants); every one for merchant staff who may see stock. A page may hold fewer than `limit` when it follows `next_cursor`", body = ListResponse<ReservationOut>),
        (status = 404, description = "the caller may not hold or see stock")))]
pub async fn list(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    query: Result<Query<ReservationListQuery>, Problem>,
) -> Result<Json<ListResponse<ReservationOut>>, Problem> {
    let access = access(&ctx)?;
    let Query(query) = query?;
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<ReservationId>()?;
    let status = match query.status.as_deref() {
        None => None,
        Some(code) => Some(Status::parse(code).ok_or_else(|| {
            Problem::invalid_field("/status", "one of active, committed, released, expired")
        })?),
    };
    let filter = repo::reservations::Filter {
        created_by: (!access.sees_all).then(|| ctx.actor.label()),
        status,
        reference: query.reference,
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::reservations::list(&tx, &filter, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |r| r.id.to_string());
    // Filtered after paging, so the cursor still follows every row the page read.
    let data = match &access.holds {
        Holds::Only(vendors) if !access.sees_all => of_vendors(&tx, page.data, vendors).await?,
        _ => page.data,
    };
    Ok(Json(ListResponse {
        data: data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/reservations/{reservation_id}", tag = "inventory",
    params(("reservation_id" = String, Path)),
    responses((status = 200, body = ReservationOut),
        (status = 404, description = "no such reservation, or not the caller's: only its creator and merchant staff who may see stock see it")))]
pub async fn show(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Problem> {
    let access = access(&ctx)?;
    let id: ReservationId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let reservation = repo::reservations::find(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if access.sees_all || owns(&tx, &ctx, &access, &reservation).await? {
        Ok(Json(reservation.into()))
    } else {
        Err(Problem::not_found())
    }
}

/// Commits or releases: its creator or merchant staff who may change stock. Merchant staff
/// who may only see it get 403; anyone else 404.
async fn end(
    state: &InventoryState,
    ctx: &TenantContext,
    id: &str,
    how: End,
) -> Result<Json<ReservationOut>, Problem> {
    let access = &access(ctx)?;
    let id: ReservationId = path_id(id)?;
    let actor = &ctx.actor.label();
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        let found = repo::reservations::find(&tx, id)
            .await?
            .ok_or_else(Problem::not_found)?;
        if !access.ends_all && !owns(&tx, ctx, access, &found).await? {
            return Err(if access.sees_all {
                may_not_change()
            } else {
                Problem::not_found()
            });
        }
        let ended = movements::end(&tx, id, how, actor, crate::movements::now())
            .await
            .map_err(movement_problem)?
            .ok_or_else(Problem::not_found)?;
        let result = match ended {
            Ended::Done(r) | Ended::Already(r) | Ended::NotYet(r) => Ok(r),
            Ended::ExpiredInstead(_) => Err(Problem::of(
                InventoryProblem::ReservationExpired,
                "the reservation expired before it was committed; its units were released",
            )),
        };
        tx.commit().await?;
        state.outbox.notify_one();
        result.map(|r| Json(r.into()))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/reservations/{reservation_id}/commit", tag = "inventory",
    params(("reservation_id" = String, Path)),
    responses((status = 200, description = "committed (or already was): its units left on hand", body = ReservationOut),
        (status = 403, description = "merchant staff who may see it but not change stock"),
        (status = 404, description = "no such reservation, or not the caller's to end: only its creator and merchant staff with `catalog:manage` may"),
        (status = 409, description = "released or expired")))]
pub async fn commit(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Problem> {
    end(&state, &ctx, &id, End::Commit).await
}

#[utoipa::path(post, path = "/api/v1/reservations/{reservation_id}/release", tag = "inventory",
    params(("reservation_id" = String, Path)),
    responses((status = 200, description = "released (or already released or expired): its units are available again", body = ReservationOut),
        (status = 403, description = "merchant staff who may see it but not change stock"),
        (status = 404, description = "no such reservation, or not the caller's to end: only its creator and merchant staff with `catalog:manage` may"),
        (status = 409, description = "already committed")))]
pub async fn release(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Problem> {
    end(&state, &ctx, &id, End::Release).await
}
