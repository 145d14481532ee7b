//! A stand-in for the inventory service, which orders reaches over HTTP and may not link
//! (gateway/tests/it/architecture.rs): it speaks inventory's wire format from the contract
//! crate (`mercato_inventory_api::reservations`) and keeps units per shop and variant in
//! memory. A test sets what it holds, and reads back what orders reserved and released.
//!
//! Like inventory, it verifies the signed context, answers only in the shop it names, holds
//! every line or none, and refuses a shortage with `insufficient_stock` naming each short
//! line (`/lines/{i}/quantity`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use mercato_inventory_api::reservations::ReservationIn;
use mercato_inventory_api::{InventoryProblem, ReservationId};
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, RequestContext, Scope, TenantId, VariantId,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One reservation as orders made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: ReservationId,
    pub tenant: TenantId,
    pub lines: Vec<(VariantId, i64)>,
    pub reference: Option<String>,
    /// The `Idempotency-Key` it came with.
    pub key: Option<String>,
    /// Who asked, from the signed context.
    pub actor: Actor,
    pub released: bool,
}

#[derive(Default)]
struct Book {
    on_hand: HashMap<(TenantId, VariantId), i64>,
    held: Vec<Held>,
}

impl Book {
    /// Units of `variant` not held by an active reservation.
    fn available(&self, tenant: TenantId, variant: VariantId) -> i64 {
        let on_hand = self.on_hand.get(&(tenant, variant)).copied().unwrap_or(0);
        let held: i64 = self
            .held
            .iter()
            .filter(|h| h.tenant == tenant && !h.released)
            .flat_map(|h| &h.lines)
            .filter(|(v, _)| *v == variant)
            .map(|(_, units)| units)
            .sum();
        on_hand - held
    }
}

/// The local inventory: its router goes into `InventoryLink::Local`.
#[derive(Clone)]
pub struct LocalInventory {
    key: ContextKey,
    book: Arc<Mutex<Book>>,
}

impl LocalInventory {
    /// An empty inventory that trusts contexts signed with `key`.
    pub fn new(key: ContextKey) -> Self {
        Self {
            key,
            book: Arc::default(),
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/reservations", post(reserve))
            .route("/api/v1/reservations/{id}/release", post(release))
            .with_state(self.clone())
    }

    /// Sets the units on hand of `variant` in `tenant`.
    pub fn set_on_hand(&self, tenant: TenantId, variant: VariantId, units: i64) {
        self.book
            .lock()
            .expect("inventory book")
            .on_hand
            .insert((tenant, variant), units);
    }

    /// Units of `variant` that can be reserved now.
    pub fn available(&self, tenant: TenantId, variant: VariantId) -> i64 {
        self.book
            .lock()
            .expect("inventory book")
            .available(tenant, variant)
    }

    /// Every reservation made in `tenant`, oldest first.
    pub fn reservations(&self, tenant: TenantId) -> Vec<Held> {
        self.book
            .lock()
            .expect("inventory book")
            .held
            .iter()
            .filter(|h| h.tenant == tenant)
            .cloned()
            .collect()
    }

    /// The caller's shop and who the caller is, from the signed context; 404 otherwise.
    fn caller(&self, headers: &HeaderMap) -> Result<(TenantId, Actor), Problem> {
        let header = headers.get(CONTEXT_HEADER).ok_or_else(Problem::not_found)?;
        let context: RequestContext = self
            .key
            .verify(header.as_bytes())
            .map_err(|_| Problem::not_found())?;
        match context.scope {
            Scope::Shop(tenant) => Ok((tenant, context.actor)),
            Scope::Platform => Err(Problem::not_found()),
        }
    }
}

fn out(h: &Held, expires_at: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "id": h.id,
        "status": if h.released { "released" } else { "active" },
        "reference": h.reference,
        "lines": h.lines.iter().map(|(v, q)| json!({ "variant_id": v, "quantity": q })).collect::<Vec<_>>(),
        "expires_at": expires_at,
    })
}

async fn reserve(
    State(inventory): State<LocalInventory>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let (tenant, actor) = inventory.caller(&headers)?;
    let input: ReservationIn = serde_json::from_slice(&body)
        .map_err(|e| Problem::invalid_field("", format!("not a reservation: {e}")))?;
    let mut lines = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        let variant: VariantId = line.variant_id.parse().map_err(|_| {
            Problem::invalid_field(format!("/lines/{i}/variant_id"), "not a variant id")
        })?;
        lines.push((variant, line.quantity));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .map(str::to_owned);
    let expires_at =
        chrono::Utc::now() + chrono::TimeDelta::seconds(input.ttl_seconds.unwrap_or(900));
    let mut book = inventory.book.lock().expect("inventory book");
    if let Some(done) = book
        .held
        .iter()
        .find(|h| h.tenant == tenant && key.is_some() && h.key == key)
    {
        return Ok((StatusCode::OK, Json(out(done, expires_at))));
    }
    let short: Vec<FieldError> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (variant, requested))| {
            let available = book.available(tenant, *variant);
            (*requested > available).then(|| {
                FieldError::new(
                    format!("/lines/{i}/quantity"),
                    format!("{available} of {requested} requested available for {variant}"),
                )
            })
        })
        .collect();
    if !short.is_empty() {
        let mut problem = Problem::of(
            InventoryProblem::InsufficientStock,
            "not enough stock for every line; nothing was reserved",
        );
        problem.errors = short;
        return Err(problem);
    }
    let held = Held {
        id: ReservationId::new(),
        tenant,
        lines,
        reference: input.reference,
        key,
        actor,
        released: false,
    };
    let body = out(&held, expires_at);
    book.held.push(held);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn release(
    State(inventory): State<LocalInventory>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let (tenant, _) = inventory.caller(&headers)?;
    let id: ReservationId = id.parse().map_err(|_| Problem::not_found())?;
    let mut book = inventory.book.lock().expect("inventory book");
    let held = book
        .held
        .iter_mut()
        .find(|h| h.tenant == tenant && h.id == id)
        .ok_or_else(Problem::not_found)?;
    if held.released {
        return Err(Problem::of(
            InventoryProblem::ReservationEnded,
            "the reservation is released",
        ));
    }
    held.released = true;
    Ok(Json(out(held, chrono::Utc::now())))
}
