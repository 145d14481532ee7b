//! `Idempotency-Key` on the POSTs that move stock. The key, the request it came with and the
//! response it got are stored per shop and caller in the same transaction as the effect, so
//! a retry of a committed request gets the same answer and moves nothing, and a retry of a
//! request that failed runs again. Only successes are stored: a refusal (not enough stock,
//! bad input) changed nothing, and trying again later may succeed. A reservation's retry
//! shows the reservation as it is now, not as the stored answer had it (it may have been
//! released since): see `reservations::replay`.
//!
//! The same key with a different request is a 422; two requests with the same key at once
//! run one after the other, the second getting the first's stored answer. Keys are kept for
//! a day (`repo::idempotency::KEEP_FOR`), then purged by the retention sweep.

use crate::problems::InventoryProblem;
use crate::repo::idempotency::{self, Stored};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use serde::Serialize;

pub const HEADER: &str = "idempotency-key";
/// Set on a response given again for a stored key.
pub const REPLAYED: &str = "idempotent-replayed";

pub use mercato_kernel::http::idempotency_key as key_from;

/// `body` given again for a key used before, with the first answer's `status`.
pub fn replayed(status: u16, body: serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// One request's idempotency: its key (if any), who sent it, what it asked.
pub struct Idempotency {
    pub key: Option<String>,
    pub actor: String,
    pub operation: &'static str,
    pub request: serde_json::Value,
}

impl Idempotency {
    /// What this key's first request stored, when the key was used before; 422 when it came
    /// with another request.
    pub async fn stored(&self, tx: &TenantTx) -> Result<Option<Stored>, Problem> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(stored) = idempotency::find(tx, &self.actor, key).await? else {
            return Ok(None);
        };
        if stored.operation != self.operation || stored.request != self.request {
            return Err(Problem::from(InventoryProblem::IdempotencyKeyReused)
                .with_detail("this Idempotency-Key was used with a different request"));
        }
        Ok(Some(stored))
    }

    /// The stored answer when this key was used before: the same response again, or 422
    /// when the key came with another request.
    pub async fn replay(&self, tx: &TenantTx) -> Result<Option<Response>, Problem> {
        Ok(self
            .stored(tx)
            .await?
            .map(|stored| replayed(stored.status, stored.response)))
    }

    /// Stores the answer with the key, in the effect's transaction. Another request that
    /// stored the same key meanwhile makes this a retryable race: the retry replays it.
    pub async fn store(
        &self,
        tx: &TenantTx,
        status: StatusCode,
        body: &impl Serialize,
    ) -> Result<(), Problem> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let stored = Stored {
            operation: self.operation.to_owned(),
            request: self.request.clone(),
            status: status.as_u16(),
            response: serde_json::to_value(body)?,
        };
        match idempotency::insert(tx, &self.actor, key, &stored, crate::movements::now()).await {
            Ok(()) => Ok(()),
            Err(e) if mercato_db::is_unique_violation(&e) => Err(Problem::of(
                InventoryProblem::ConcurrentRequest,
                "a request with this Idempotency-Key is being processed; retry it",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
