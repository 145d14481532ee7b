//! HTTP handlers and DTOs of the inventory service, and what they share: who may see and
//! change a vendor's stock, problem responses for refused movements, and retrying a
//! transaction the database could not run at once.

pub mod idempotency;
pub mod reservations;
pub mod stock;
pub mod warehouses;

use crate::domain::stock::StockError;
use crate::movements::MovementError;
use crate::problems::InventoryProblem;
use axum::http::{HeaderValue, header};
use mercato_kernel::ProblemCode as _;
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{
    Actor, Permission, ServiceName, TenantContext, VendorAccess, VendorId, VendorPermission,
};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
use std::time::Duration;

/// Merchant staff who may change any vendor's warehouses and stock.
pub fn is_stock_manager(ctx: &TenantContext) -> bool {
    ctx.can(Permission::CatalogManage)
}

/// Merchant staff who may see every vendor's warehouses, stock and reservations.
pub fn is_stock_reader(ctx: &TenantContext) -> bool {
    ctx.can(Permission::CatalogManage) || ctx.can(Permission::VendorsRead)
}

/// The orders service acting as itself: it holds stock for checkouts.
pub fn is_orders_service(ctx: &TenantContext) -> bool {
    ctx.actor == Actor::Service(ServiceName::Orders)
}

/// The vendors whose stock the caller may change as their staff (`vendor.stock:write`).
pub fn stock_vendors(ctx: &TenantContext) -> Vec<VendorId> {
    ctx.memberships()
        .iter()
        .filter(|m| m.role.grants(VendorPermission::StockWrite))
        .map(|m| m.vendor)
        .collect()
}

/// May the caller see `vendor`'s warehouses and stock? Strangers get 404: another
/// vendor's things do not exist for them.
pub fn may_read(ctx: &TenantContext, vendor: VendorId) -> Result<(), Problem> {
    if is_stock_reader(ctx) || ctx.can_for_vendor(vendor, VendorPermission::Read) {
        Ok(())
    } else {
        Err(Problem::not_found())
    }
}

/// May the caller change `vendor`'s warehouses and stock? Merchant staff with
/// `catalog:manage` may; the vendor's staff with `vendor.stock:write` may. Those who can see
/// but not change get 403; strangers 404.
pub fn may_change(ctx: &TenantContext, vendor: VendorId) -> Result<(), Problem> {
    if is_stock_manager(ctx) {
        return Ok(());
    }
    if ctx.vendor_role(vendor).is_some() {
        return ctx.require_vendor(vendor, VendorPermission::StockWrite);
    }
    if ctx.can(Permission::VendorsRead) {
        return Err(Problem::forbidden(format!(
            "your role does not grant `{}`",
            Permission::CatalogManage.name()
        )));
    }
    Err(Problem::not_found())
}

/// The problem response for a movement that did not happen.
pub fn movement_problem(error: MovementError) -> Problem {
    match error {
        MovementError::Db(e) => Problem::from(e),
        MovementError::Invalid(errors) => Problem::validation(errors),
        MovementError::NotSelling(errors) => {
            let mut problem = Problem::of(
                InventoryProblem::VendorNotSelling,
                "a vendor of these lines is suspended; nothing was reserved",
            );
            problem.errors = errors;
            problem
        }
        // Worded as orders words it at cart and checkout, with the day the vendor is back;
        // each line's error names its own.
        MovementError::OnHoliday { back_on, errors } => {
            let days: Vec<String> = back_on.iter().map(ToString::to_string).collect();
            let detail = match days.as_slice() {
                [day] => format!(
                    "a vendor of these lines is on holiday and takes orders again on {day}; \
                     nothing was reserved"
                ),
                _ => format!(
                    "vendors of these lines are on holiday and take orders again on {}; \
                     nothing was reserved",
                    days.join(", ")
                ),
            };
            let mut problem = Problem::of(InventoryProblem::VendorOnHoliday, detail);
            problem.errors = errors;
            problem
        }
        MovementError::Stock(e @ StockError::BelowZero { .. }) => {
            Problem::of(InventoryProblem::StockBelowZero, e.to_string())
        }
        MovementError::Stock(e @ StockError::BelowReserved { .. }) => {
            Problem::of(InventoryProblem::StockReserved, e.to_string())
        }
        MovementError::Stock(e @ StockError::TooMuch) => {
            Problem::validation(vec![FieldError::new("/delta", e.to_string())])
        }
        MovementError::Stock(e) => Problem::of(InventoryProblem::InsufficientStock, e.to_string()),
        MovementError::Short(shortages) => {
            let mut problem = Problem::of(
                InventoryProblem::InsufficientStock,
                "not enough stock for every line; nothing was reserved",
            );
            problem.errors = shortages
                .iter()
                .map(|s| {
                    FieldError::new(
                        format!("/lines/{}/quantity", s.line),
                        format!(
                            "{} of {} requested available for {}",
                            s.available, s.requested, s.variant
                        ),
                    )
                })
                .collect();
            problem
        }
        MovementError::Ended(status) => Problem::of(
            InventoryProblem::ReservationEnded,
            format!("the reservation is {}", status.code()),
        ),
        MovementError::OtherVendor => Problem::not_found(),
    }
}

/// A database error that goes away when the transaction is tried again: SQLite busy or
/// locked past its timeout, a PostgreSQL deadlock or serialization failure, no pooled
/// connection in time.
pub fn is_transient_db(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| {
                matches!(
                    code.as_ref(),
                    // SQLite: BUSY, LOCKED, BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT.
                    "5" | "6" | "261" | "517" | "773"
                    // PostgreSQL: serialization failure, deadlock, lock not available.
                    | "40001" | "40P01" | "55P03"
                )
            }),
        _ => false,
    }
}

fn is_transient(problem: &Problem) -> bool {
    problem.code == InventoryProblem::ConcurrentRequest.code()
        || problem.source.as_ref().is_some_and(|source| {
            source
                .chain()
                .any(|e| e.downcast_ref::<DbErr>().is_some_and(is_transient_db))
        })
}

/// Runs `op` (one whole transaction) again when it failed for a transient reason, a few
/// times with a short pause; then answers 503 with `Retry-After` instead of a 500.
///
/// `op` makes a new future per attempt; borrow what it needs by reference and use
/// `|| async move { … }`.
pub async fn retrying<T, F, Fut>(mut op: F) -> Result<T, Problem>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Problem>>,
{
    const ATTEMPTS: u32 = 4;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Err(problem) if is_transient(&problem) => {
                if attempt >= ATTEMPTS {
                    tracing::warn!(error = %problem, "giving up on a transaction after retries");
                    if problem.code == InventoryProblem::ConcurrentRequest.code() {
                        return Err(problem);
                    }
                    return Err(Problem::of(
                        InventoryProblem::DatabaseBusy,
                        "the shop's stock is very busy right now; try again",
                    )
                    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1")));
                }
                tracing::debug!(attempt, error = %problem, "retrying a transaction");
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

/// 401 for anonymous callers, where a signed-in one could be let in.
pub fn signed_in(ctx: &TenantContext) -> Result<(), Problem> {
    if ctx.actor == Actor::Anonymous {
        Err(Problem::unauthorized("sign in to do this"))
    } else {
        Ok(())
    }
}

pub use mercato_kernel::http::body_id;
