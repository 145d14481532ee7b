//! Holding stock for a checkout: a call to inventory's `POST /api/v1/reservations`, as the
//! orders service itself (a context it signs with the deployment's internal key), through
//! inventory's router in the same process or over HTTP when inventory runs elsewhere.
//! Committing and releasing go the other way, through events (`order.paid`,
//! `order.expired`, `order.cancelled`), so a crash between the order's change and the
//! stock's cannot lose either.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mercato_inventory_api::InventoryProblem;
use mercato_inventory_api::ReservationId;
use mercato_inventory_api::reservations::{ReservationIn, ReservationLineIn, Reserved};
use mercato_kernel::FieldError;
use mercato_kernel::problem::ProblemCode;
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, RequestContext, Scope, ServiceName, TenantContext, VariantId,
};
use serde::Deserialize;
use tower::ServiceExt;

/// Where inventory answers.
#[derive(Clone)]
pub enum InventoryLink {
    /// Inventory's router, in this process.
    Local(Router),
    /// Inventory's base URL.
    Remote {
        client: reqwest::Client,
        base: String,
    },
}

#[derive(Clone)]
pub struct InventoryClient {
    pub link: InventoryLink,
    pub key: ContextKey,
}

#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// Some lines cannot be covered; nothing was reserved.
    #[error("not enough stock")]
    Short(Vec<FieldError>),
    /// A vendor of the lines does not sell (suspended).
    #[error("a vendor is not selling")]
    NotSelling(Vec<FieldError>),
    /// A vendor of the lines is on holiday; each error names the day it is back. Orders
    /// refuses such lines itself first: this is inventory knowing of the holiday sooner.
    #[error("a vendor is on holiday")]
    OnHoliday(Vec<FieldError>),
    /// Inventory did not answer as it should.
    #[error("inventory unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct ProblemReply {
    #[serde(default)]
    code: String,
    #[serde(default)]
    errors: Vec<FieldError>,
}

impl InventoryClient {
    /// The orders service acting in the shop (and request) of `ctx`.
    fn context(ctx: &TenantContext) -> RequestContext {
        RequestContext {
            scope: Scope::Shop(ctx.tenant),
            actor: Actor::Service(ServiceName::Orders),
            roles: Vec::new(),
            vendors: Vec::new(),
            request_id: ctx.request_id,
            terms: Some(ctx.terms.clone()),
            client_ip: None,
        }
    }

    /// POSTs `body` to inventory as the orders service.
    async fn send(
        &self,
        context: &RequestContext,
        path: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Vec<u8>), String> {
        let signed = self.key.sign(context);
        match &self.link {
            InventoryLink::Local(router) => {
                let mut request = Request::builder()
                    .method(Method::POST)
                    .uri(path)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(CONTEXT_HEADER, &signed);
                if let Some(key) = key {
                    request = request.header("idempotency-key", key);
                }
                let request = request.body(Body::from(body)).map_err(|e| e.to_string())?;
                let response = router
                    .clone()
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {});
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((status, bytes.to_vec()))
            }
            InventoryLink::Remote { client, base } => {
                let mut request = client
                    .post(format!("{}{path}", base.trim_end_matches('/')))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(CONTEXT_HEADER, &signed);
                if let Some(key) = key {
                    request = request.header("idempotency-key", key);
                }
                let response = request.body(body).send().await.map_err(|e| e.to_string())?;
                let status = StatusCode::from_u16(response.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let bytes = response.bytes().await.map_err(|e| e.to_string())?;
                Ok((status, bytes.to_vec()))
            }
        }
    }

    /// Gives a reservation's units back at once (a checkout that did not become an order).
    /// A reservation already ended is fine.
    pub async fn release(
        &self,
        ctx: &TenantContext,
        reservation: ReservationId,
    ) -> Result<(), String> {
        let context = Self::context(ctx);
        let (status, _) = self
            .send(
                &context,
                &format!("/api/v1/reservations/{reservation}/release"),
                None,
                b"{}".to_vec(),
            )
            .await?;
        if status.is_success() || status == StatusCode::CONFLICT {
            Ok(())
        } else {
            Err(format!("inventory answered {status}"))
        }
    }

    /// Holds `lines` for `ttl_seconds`, idempotently by `key` (a retried checkout gets the
    /// same reservation). Returns the reservation's id.
    pub async fn reserve(
        &self,
        ctx: &TenantContext,
        key: &str,
        lines: &[(VariantId, i64)],
        ttl_seconds: i64,
        reference: &str,
    ) -> Result<ReservationId, ReserveError> {
        let context = Self::context(ctx);
        let body = ReservationIn {
            lines: lines
                .iter()
                .map(|&(variant_id, quantity)| ReservationLineIn {
                    variant_id: variant_id.to_string(),
                    quantity,
                })
                .collect(),
            ttl_seconds: Some(ttl_seconds),
            reference: Some(reference.to_owned()),
        };
        let body =
            serde_json::to_vec(&body).map_err(|e| ReserveError::Unavailable(e.to_string()))?;
        let (status, bytes) = self
            .send(&context, "/api/v1/reservations", Some(key), body)
            .await
            .map_err(ReserveError::Unavailable)?;
        if status.is_success() {
            let reply: Reserved = serde_json::from_slice(&bytes)
                .map_err(|e| ReserveError::Unavailable(format!("unreadable reservation: {e}")))?;
            return Ok(reply.id);
        }
        let problem: ProblemReply = serde_json::from_slice(&bytes).unwrap_or(ProblemReply {
            code: String::new(),
            errors: Vec::new(),
        });
        let is = |code: InventoryProblem| status == code.status() && problem.code == code.code();
        match status {
            _ if is(InventoryProblem::InsufficientStock) => {
                Err(ReserveError::Short(problem.errors))
            }
            _ if is(InventoryProblem::VendorNotSelling) => {
                Err(ReserveError::NotSelling(problem.errors))
            }
            _ if is(InventoryProblem::VendorOnHoliday) => {
                Err(ReserveError::OnHoliday(problem.errors))
            }
            // Inventory has not learned of a variant yet: as good as none in stock.
            StatusCode::UNPROCESSABLE_ENTITY => Err(ReserveError::Short(problem.errors)),
            _ => Err(ReserveError::Unavailable(format!(
                "inventory answered {status} {}",
                problem.code
            ))),
        }
    }
}
