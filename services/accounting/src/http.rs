//! The ledger's API, for merchant staff with `ledger:read`: the trial balance per currency
//! and the journal (posted entries with their lines, newest booking last). Customer
//! documents are served by `invoices`, expenses by `expenses`, the period reports (profit
//! and loss, VAT summary, vendor statements) by `reports`.

use crate::AccountingState;
use crate::domain::EntryId;
use crate::domain::accounts::Kind;
use crate::repo;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::http::{Json, Query};
use mercato_kernel::{Currency, ListQuery, ListResponse, Money, Problem};
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::{Permission, TenantContext, VendorId};
use serde::{Deserialize, Serialize};

pub mod expenses;
pub mod invoices;
pub mod reconciliation;
pub mod reports;
pub mod settings;

pub fn router() -> Router<AccountingState> {
    Router::new()
        .route("/api/v1/ledger/trial-balance", get(trial_balance))
        .route("/api/v1/ledger/entries", get(entries))
        .merge(invoices::router())
        .merge(expenses::router())
        .merge(reports::router())
        .merge(settings::router())
        .merge(reconciliation::router())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrialBalanceQuery {
    /// ISO 4217, e.g. `EUR`: the ledger's currency.
    pub currency: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    /// `1100`, `2100`, …
    pub code: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// The account's balance on its debit side (0 when it is on the credit side).
    pub debit: Money,
    /// The account's balance on its credit side (0 when it is on the debit side).
    pub credit: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrialBalance {
    pub currency: String,
    /// Every account of the chart, in code order.
    pub accounts: Vec<AccountBalance>,
    pub total_debit: Money,
    pub total_credit: Money,
}

fn currency_of(code: &str) -> Result<Currency, Problem> {
    Currency::parse(code).map_err(|_| {
        Problem::invalid_field(
            "/currency",
            "an ISO 4217 currency code Mercato knows, e.g. EUR",
        )
    })
}

/// The balance of every account of the shop's ledger in one currency. The two totals are
/// equal: every entry balances.
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "accounting",
    params(TrialBalanceQuery),
    responses((status = 200, body = TrialBalance),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "An unknown currency")))]
pub async fn trial_balance(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<TrialBalanceQuery>, Problem>,
) -> Result<Json<TrialBalance>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let currency = currency_of(&query.currency)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let totals = repo::account_totals(&*tx, ctx.tenant.as_uuid(), currency).await?;
    let m = |amount: i64| Money::new(amount, currency);
    let accounts: Vec<AccountBalance> = totals
        .into_iter()
        .map(|(account, debit, credit)| {
            let net = debit - credit;
            AccountBalance {
                code: account.code(),
                name: account.name(),
                kind: account.kind(),
                debit: m(net.max(0)),
                credit: m((-net).max(0)),
            }
        })
        .collect();
    let total_debit = accounts.iter().map(|a| a.debit.amount).sum();
    let total_credit = accounts.iter().map(|a| a.credit.amount).sum();
    Ok(Json(TrialBalance {
        currency: currency.code().to_owned(),
        accounts,
        total_debit: m(total_debit),
        total_credit: m(total_credit),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// `ord_…`: only the entries booking this order.
    pub order_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryLineOut {
    pub account: &'static str,
    pub account_name: &'static str,
    /// The vendor whose payable the line moves (account `2100` only).
    pub vendor_id: Option<VendorId>,
    pub debit: Money,
    pub credit: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryOut {
    pub id: EntryId,
    /// `sale`, `refund`, `payout`, `expense` or `expense_reversal`.
    pub kind: String,
    pub memo: String,
    pub order_id: Option<OrderId>,
    pub vendor_order_id: Option<VendorOrderId>,
    /// The event that caused the entry, and its id.
    pub source_event: Option<String>,
    pub source_event_id: Option<String>,
    /// When the event happened, and when the entry was posted.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub posted_at: chrono::DateTime<chrono::Utc>,
    pub lines: Vec<EntryLineOut>,
}

/// The journal: posted entries in the order they were posted, each with its lines.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "accounting",
    params(EntriesQuery),
    responses((status = 200, body = ListResponse<EntryOut>),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "A malformed order id or cursor")))]
pub async fn entries(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<EntriesQuery>, Problem>,
) -> Result<Json<ListResponse<EntryOut>>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<EntryId>()?;
    let order = match query.order_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<OrderId>()
                .map_err(|_| Problem::invalid_field("/order_id", "an order id (`ord_…`)"))?,
        ),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::entries(&*tx, ctx.tenant.as_uuid(), order, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |e| e.id.to_string());
    let data = page
        .data
        .into_iter()
        .map(|e| {
            let currency = Currency::parse(&e.currency).map_err(Problem::internal)?;
            let m = |amount: i64| Money::new(amount, currency);
            Ok(EntryOut {
                id: e.id,
                kind: e.kind,
                memo: e.memo,
                order_id: e.order.map(OrderId::from_uuid),
                vendor_order_id: e.vendor_order.map(VendorOrderId::from_uuid),
                source_event: e.source_event,
                source_event_id: e
                    .source_event_id
                    .map(|id| mercato_events::EventId::from_uuid(id).to_string()),
                occurred_at: e.occurred_at,
                posted_at: e.posted_at,
                lines: e
                    .lines
                    .into_iter()
                    .map(|l| EntryLineOut {
                        account: l.account.code(),
                        account_name: l.account.name(),
                        vendor_id: l.vendor.map(VendorId::from_uuid),
                        debit: m(l.debit),
                        credit: m(l.credit),
                    })
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(Json(ListResponse {
        data,
        next_cursor: page.next_cursor,
    }))
}
