//! Reservations: hold units for a checkout, then commit (on payment) or release (on cancel).
//! Any signed-in caller of the shop may reserve, the orders service acting as itself
//! included; a reservation is visible to whoever created it and to merchant staff.

use super::idempotency::{self, Idempotency};
use super::{body_id, is_stock_manager, is_stock_reader, movement_problem, retrying, signed_in};
use crate::InventoryState;
use crate::domain::ReservationId;
use crate::domain::reservation::{
    self, Allocation, Line, MAX_LINES, Reservation, Status, check_quantity, check_reference,
};
use crate::movements::{self, End, Ended, MovementError, ReservationRequest};
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{Actor, Role, TenantContext, VariantId};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Active reservations a shopper (a caller without staff rights) may hold at once.
pub const SHOPPER_ACTIVE_LIMIT: u64 = 25;

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    /// `var_…`; each variant at most once per reservation.
    pub variant_id: String,
    /// Units, 1 to 100000.
    pub quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationIn {
    /// 1 to 100 lines.
    pub lines: Vec<LineIn>,
    /// How long to hold the units: 1 to 3600 seconds, default 900.
    pub ttl_seconds: Option<i64>,
    /// The caller's own reference (an order or cart id). Without an `Idempotency-Key`, a
    /// retry with the same reference gets the first answer.
    pub reference: Option<String>,
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

/// Staff, integrations and services (orders reserving for checkouts) may hold any number of
/// reservations; shoppers a few.
fn is_shopper(ctx: &TenantContext) -> bool {
    !matches!(ctx.actor, Actor::Service(_))
        && ctx.roles.iter().all(|r| *r == Role::Customer)
        && !is_stock_reader(ctx)
}

#[utoipa::path(post, path = "/api/v1/reservations", tag = "inventory", request_body = ReservationIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key and body get the first answer and reserve nothing more")),
    responses((status = 201, description = "reserved; a retry with the same key or reference gets the same answer again, with `Idempotent-Replayed: true`", body = ReservationOut),
        (status = 401),
        (status = 409, description = "`insufficient_stock` for the lines named in `errors`, or `vendor_not_selling` (a suspended vendor's lines); nothing was reserved"),
        (status = 422, description = "bad input: quantities, unknown variants, a TTL over an hour, a reused key"),
        (status = 503, description = "too busy; retry after the `Retry-After` seconds")))]
pub async fn create(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Json(body): Json<ReservationIn>,
) -> Result<Response, Problem> {
    signed_in(&ctx)?;
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
            && let Some(replay) = idempotency.replay(&tx).await?
        {
            return Ok(replay);
        }
        if is_shopper(ctx)
            && repo::reservations::active_count(&tx, actor).await? >= SHOPPER_ACTIVE_LIMIT
        {
            let refusal = Problem::conflict(
                "too_many_reservations",
                format!("a shopper may hold {SHOPPER_ACTIVE_LIMIT} reservations at once; release one first"),
            );
            return idempotency.replay_or(&tx, refusal).await;
        }
        let request = ReservationRequest {
            lines,
            ttl,
            reference: reference.clone(),
            actor,
        };
        let reservation = match movements::reserve(&tx, request, crate::movements::now()).await {
            Ok(reservation) => reservation,
            Err(MovementError::Db(e)) => return Err(e.into()),
            Err(refused) => return idempotency.replay_or(&tx, movement_problem(refused)).await,
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
    responses((status = 200, description = "the caller's reservations; everyone's for merchant staff", body = ListResponse<ReservationOut>), (status = 401)))]
pub async fn list(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Query(query): Query<ReservationListQuery>,
) -> Result<Json<ListResponse<ReservationOut>>, Problem> {
    signed_in(&ctx)?;
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
        created_by: (!is_stock_reader(&ctx)).then(|| ctx.actor.label()),
        status,
        reference: query.reference,
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::reservations::list(&tx, &filter, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |r| r.id.to_string());
    Ok(Json(ListResponse {
        data: page.data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The reservation, if the caller may see it: its creator and merchant staff; else 404.
async fn visible(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: ReservationId,
) -> Result<Reservation, Problem> {
    let reservation = repo::reservations::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if is_stock_reader(ctx) || reservation.created_by == ctx.actor.label() {
        Ok(reservation)
    } else {
        Err(Problem::not_found())
    }
}

#[utoipa::path(get, path = "/api/v1/reservations/{reservation_id}", tag = "inventory",
    params(("reservation_id" = String, Path)),
    responses((status = 200, body = ReservationOut), (status = 404)))]
pub async fn show(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Problem> {
    let id: ReservationId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(visible(&tx, &ctx, id).await?.into()))
}

/// Commits or releases: the creator or merchant staff who may change stock.
async fn end(
    state: &InventoryState,
    ctx: &TenantContext,
    id: &str,
    how: End,
) -> Result<Json<ReservationOut>, Problem> {
    let id: ReservationId = path_id(id)?;
    let actor = &ctx.actor.label();
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        let found = visible(&tx, ctx, id).await?;
        if &found.created_by != actor && !is_stock_manager(ctx) {
            return Err(Problem::forbidden(
                "only its creator and merchant staff may end a reservation",
            ));
        }
        let ended = movements::end(&tx, id, how, actor, crate::movements::now())
            .await
            .map_err(movement_problem)?
            .ok_or_else(Problem::not_found)?;
        let result = match ended {
            Ended::Done(r) | Ended::Already(r) | Ended::NotYet(r) => Ok(r),
            Ended::ExpiredInstead(_) => Err(Problem::conflict(
                "reservation_expired",
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
        (status = 404), (status = 409, description = "released or expired")))]
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
        (status = 404), (status = 409, description = "already committed")))]
pub async fn release(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Problem> {
    end(&state, &ctx, &id, End::Release).await
}
