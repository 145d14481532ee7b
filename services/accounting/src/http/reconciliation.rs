//! The reconciliation of the payment provider's clearing account (1100) against the
//! providers' balance transactions, for a period (ADR 0045): a report as data, for merchant
//! staff with `ledger:read`. It reads only this service's tables: the providers' side is what
//! orders imported from them (`payment.balance_imported`), never fetched during the request.

use super::reports::{PeriodQuery, bounds, parse_period};
use crate::AccountingState;
use crate::domain::reconciliation::{self, Item};
use crate::repo;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::http::{Json, Query};
use mercato_kernel::{Currency, Money, Problem};
use mercato_tenant_context::{Permission, TenantContext};
use serde::Serialize;

pub fn router() -> Router<AccountingState> {
    Router::new().route("/api/v1/ledger/reconciliation", get(reconciliation))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReconciliationItem {
    /// `charge` (the order's payment, gross), `fee`, `refund`, `transfer` (a payout) or
    /// `other` (an expense paid from 1100; an adjustment at the provider).
    pub kind: &'static str,
    /// What both sides know it by: the order (`ord_…`) of a charge or fee, the refund
    /// (`rfd_…`), the payout (`po_…`); for `other`, the entry key or the provider's id.
    pub reference: String,
    /// 1100's movement for it in the ledger (debits less credits); null when none.
    pub ledger: Option<Money>,
    /// The provider's amount for it (negative: out of the balance); null when none.
    pub provider: Option<Money>,
    /// The journal entries (`jen_…`) and the provider's balance transactions behind it.
    pub ledger_entries: Vec<String>,
    pub provider_transactions: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReconciliationTotals {
    /// 1100's debits less credits in the period.
    pub ledger_movement: Money,
    /// The sum of the provider's net amounts in the period.
    pub provider_net: Money,
    /// `provider_net − ledger_movement`.
    pub difference: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub currency: String,
    pub from: chrono::NaiveDate,
    /// The last day, included.
    pub to: chrono::NaiveDate,
    /// On both sides with the same amount.
    pub matched: Vec<ReconciliationItem>,
    /// On both sides with different amounts.
    pub differences: Vec<ReconciliationItem>,
    pub only_in_ledger: Vec<ReconciliationItem>,
    pub only_at_provider: Vec<ReconciliationItem>,
    pub totals: ReconciliationTotals,
}

fn out(currency: Currency, items: Vec<Item>) -> Vec<ReconciliationItem> {
    items
        .into_iter()
        .map(|i| ReconciliationItem {
            kind: i.kind,
            reference: i.reference,
            ledger: i.ledger.map(|a| Money::new(a, currency)),
            provider: i.provider.map(|a| Money::new(a, currency)),
            ledger_entries: i.ledger_entries,
            provider_transactions: i.provider_transactions,
        })
        .collect()
}

/// The clearing account's movements in the period beside the providers' balance
/// transactions made in it, item by item (UTC days, `from` and `to` included).
#[utoipa::path(get, path = "/api/v1/ledger/reconciliation", tag = "accounting",
    params(PeriodQuery),
    responses((status = 200, body = Reconciliation),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "An unknown currency, a malformed date, `to` before `from` or a period over ten years")))]
pub async fn reconciliation(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<PeriodQuery>, Problem>,
) -> Result<Json<Reconciliation>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let (currency, period) = parse_period(&query)?;
    let (start, end) = bounds(&period)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let ledger = repo::reconciliation::ledger_moves(&tx, currency, start, end).await?;
    let provider = repo::reconciliation::provider_moves(&tx, currency, start, end).await?;
    let r = reconciliation::reconcile(&ledger, &provider);
    let m = |a: i64| Money::new(a, currency);
    Ok(Json(Reconciliation {
        currency: currency.code().to_owned(),
        from: period.from,
        to: period.to,
        matched: out(currency, r.matched),
        differences: out(currency, r.differences),
        only_in_ledger: out(currency, r.only_in_ledger),
        only_at_provider: out(currency, r.only_at_provider),
        totals: ReconciliationTotals {
            ledger_movement: m(r.ledger_movement),
            provider_net: m(r.provider_net),
            difference: m(r.provider_net - r.ledger_movement),
        },
    }))
}
