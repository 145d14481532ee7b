//! Financial reports from the journal (ADR 0042), for a period of whole days in UTC
//! (`from` and `to` both included): profit and loss beside the previous period of as many
//! days, the VAT summary, and a vendor's account statement. Merchant staff with
//! `ledger:read` see them all; a vendor's staff see their own vendor's statement; for
//! anyone else another vendor's statement does not exist (404).

use crate::AccountingState;
use crate::domain::EntryId;
use crate::domain::accounts::{Account, Kind};
use crate::domain::period::Period;
use crate::repo::reports;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, Currency, Money, Problem};
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::{Permission, TenantContext, VendorId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn router() -> Router<AccountingState> {
    Router::new()
        .route("/api/v1/ledger/profit-and-loss", get(profit_and_loss))
        .route("/api/v1/ledger/vat-summary", get(vat_summary))
        .route(
            "/api/v1/ledger/vendors/{vendor_id}/statement",
            get(vendor_statement),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// ISO 4217, e.g. `EUR`: the ledger's currency.
    pub currency: String,
    /// The first day of the period (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// The last day of the period, included.
    pub to: String,
}

/// The currency and period a report asks for, each bad field named.
pub(crate) fn parse_period(query: &PeriodQuery) -> Result<(Currency, Period), Problem> {
    let mut checks = Checks::default();
    let currency = Currency::parse(&query.currency).ok();
    if currency.is_none() {
        checks.push(
            "/currency",
            "an ISO 4217 currency code Mercato knows, e.g. EUR",
        );
    }
    let mut day = |field: &str, text: &str| match text.parse::<chrono::NaiveDate>() {
        Ok(day) => Some(day),
        Err(_) => {
            checks.push(field, "a date, YYYY-MM-DD");
            None
        }
    };
    let from = day("/from", &query.from);
    let to = day("/to", &query.to);
    let period = match (from, to) {
        (Some(from), Some(to)) => match Period::new(from, to) {
            Ok(period) => Some(period),
            Err(e) => {
                checks.push("/to", e.to_string());
                None
            }
        },
        _ => None,
    };
    checks.finish()?;
    match (currency, period) {
        (Some(currency), Some(period)) => Ok((currency, period)),
        _ => Err(Problem::invalid_field("/", "an invalid period")),
    }
}

/// `[start, end)` of `period` as instants.
pub(crate) fn bounds(
    period: &Period,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), Problem> {
    let end = period
        .end()
        .ok_or_else(|| Problem::invalid_field("/to", "the period lies outside the calendar"))?;
    Ok((period.start(), end))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountAmount {
    pub code: &'static str,
    pub name: &'static str,
    /// The account's net movement in the period on its normal side: credits less debits
    /// for income, debits less credits for expenses.
    pub amount: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodResult {
    pub from: chrono::NaiveDate,
    /// The last day, included.
    pub to: chrono::NaiveDate,
    /// Every income account of the chart, in code order.
    pub income: Vec<AccountAmount>,
    /// Every expense account of the chart, in code order.
    pub expenses: Vec<AccountAmount>,
    pub total_income: Money,
    pub total_expenses: Money,
    /// Total income less total expenses.
    pub net_income: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfitAndLoss {
    pub currency: String,
    #[serde(flatten)]
    pub current: PeriodResult,
    /// The period of as many days just before.
    pub previous: PeriodResult,
}

async fn period_result(
    tx: &mercato_db::TenantTx,
    currency: Currency,
    period: &Period,
) -> Result<PeriodResult, Problem> {
    let (start, end) = bounds(period)?;
    let moved = reports::movements(tx, currency, start, end).await?;
    Ok(income_statement(currency, period, &moved))
}

/// The profit and loss of `moved`, each account's (debits, credits) in `period`.
pub fn income_statement(
    currency: Currency,
    period: &Period,
    moved: &BTreeMap<Account, (i64, i64)>,
) -> PeriodResult {
    let m = |amount: i64| Money::new(amount, currency);
    let of = |kind: Kind| -> Vec<AccountAmount> {
        Account::ALL
            .into_iter()
            .filter(|a| a.kind() == kind)
            .map(|a| {
                let (debit, credit) = moved.get(&a).copied().unwrap_or((0, 0));
                let amount = if kind.debit_normal() {
                    debit - credit
                } else {
                    credit - debit
                };
                AccountAmount {
                    code: a.code(),
                    name: a.name(),
                    amount: m(amount),
                }
            })
            .collect()
    };
    let income = of(Kind::Income);
    let expenses = of(Kind::Expense);
    let total_income: i64 = income.iter().map(|a| a.amount.amount).sum();
    let total_expenses: i64 = expenses.iter().map(|a| a.amount.amount).sum();
    PeriodResult {
        from: period.from,
        to: period.to,
        income,
        expenses,
        total_income: m(total_income),
        total_expenses: m(total_expenses),
        net_income: m(total_income - total_expenses),
    }
}

/// Income and expenses with their net movement in the period, their totals and the net
/// income, beside the same for the previous period of as many days.
#[utoipa::path(get, path = "/api/v1/ledger/profit-and-loss", tag = "accounting",
    params(PeriodQuery),
    responses((status = 200, body = ProfitAndLoss),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "An unknown currency, a malformed date, `to` before `from` or a period over ten years")))]
pub async fn profit_and_loss(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<PeriodQuery>, Problem>,
) -> Result<Json<ProfitAndLoss>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let (currency, period) = parse_period(&query)?;
    let previous = period
        .previous()
        .ok_or_else(|| Problem::invalid_field("/from", "the period lies outside the calendar"))?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let current = period_result(&tx, currency, &period).await?;
    let previous = period_result(&tx, currency, &previous).await?;
    Ok(Json(ProfitAndLoss {
        currency: currency.code().to_owned(),
        current,
        previous,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VatSummary {
    pub currency: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// Tax credited to 2200 in the period: collected on sales, and VAT on commission.
    pub output_vat_collected: Money,
    /// Tax debited to 2200 in the period: given back with refunds.
    pub output_vat_returned: Money,
    /// Collected less returned.
    pub output_vat: Money,
    /// The net movement of 1300 input VAT: VAT paid on expenses, less reversals.
    pub input_vat: Money,
    /// Output VAT less input VAT: what the shop owes the tax office for the period
    /// (negative: what it may reclaim).
    pub payable: Money,
}

/// The period's VAT: output VAT (2200 credits less debits), input VAT (1300's movement)
/// and what is payable. The ledger's lines carry no rate or country, so there is no
/// breakdown by either.
#[utoipa::path(get, path = "/api/v1/ledger/vat-summary", tag = "accounting",
    params(PeriodQuery),
    responses((status = 200, body = VatSummary),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "An unknown currency, a malformed date, `to` before `from` or a period over ten years")))]
pub async fn vat_summary(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<PeriodQuery>, Problem>,
) -> Result<Json<VatSummary>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let (currency, period) = parse_period(&query)?;
    let (start, end) = bounds(&period)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let moved = reports::movements(&tx, currency, start, end).await?;
    let (out_debit, out_credit) = moved.get(&Account::TaxPayable).copied().unwrap_or((0, 0));
    let (in_debit, in_credit) = moved.get(&Account::InputVat).copied().unwrap_or((0, 0));
    let m = |amount: i64| Money::new(amount, currency);
    let output = out_credit - out_debit;
    let input = in_debit - in_credit;
    Ok(Json(VatSummary {
        currency: currency.code().to_owned(),
        from: period.from,
        to: period.to,
        output_vat_collected: m(out_credit),
        output_vat_returned: m(out_debit),
        output_vat: m(output),
        input_vat: m(input),
        payable: m(output - input),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    pub entry_id: EntryId,
    /// When it occurred.
    pub date: chrono::DateTime<chrono::Utc>,
    /// `sale`, `refund` or `payout`.
    pub kind: String,
    pub memo: String,
    pub order_id: Option<OrderId>,
    pub vendor_order_id: Option<VendorOrderId>,
    /// What the entry took off the payable (a refund, a payout).
    pub debit: Money,
    /// What the entry added to it (a sale).
    pub credit: Money,
    /// What the shop owes the vendor after this entry.
    pub balance: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorStatement {
    pub vendor_id: VendorId,
    pub currency: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// What the shop owed the vendor when the period began.
    pub opening_balance: Money,
    /// The entries of the period that moved the vendor's payable, in the order they
    /// occurred.
    pub lines: Vec<StatementLine>,
    pub total_debit: Money,
    pub total_credit: Money,
    /// What the shop owed the vendor when the period ended.
    pub closing_balance: Money,
}

/// The vendor's account with the shop for the period: what the shop owed it at the start
/// (its payable, 2100, before `from`), each entry that moved it (sales credit it; refunds
/// and payouts debit it) with the running balance, and what it owed at the end.
#[utoipa::path(get, path = "/api/v1/ledger/vendors/{vendor_id}/statement", tag = "accounting",
    params(("vendor_id" = String, Path, description = "`ven_…`"), PeriodQuery),
    responses((status = 200, body = VendorStatement),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Merchant staff without `ledger:read`; vendor staff without `read`"),
        (status = 404, description = "Another vendor's statement, for a vendor's staff"),
        (status = 422, description = "An unknown currency, a malformed date, `to` before `from` or a period over ten years")))]
pub async fn vendor_statement(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Path(vendor): Path<String>,
    query: Result<Query<PeriodQuery>, Problem>,
) -> Result<Json<VendorStatement>, Problem> {
    let vendor: VendorId = path_id(&vendor)?;
    ctx.require_vendor_money(&[Permission::LedgerRead], vendor)?;
    let Query(query) = query?;
    let (currency, period) = parse_period(&query)?;
    let (start, end) = bounds(&period)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let opening = reports::vendor_balance_before(&tx, vendor, currency, start).await?;
    let moved = reports::vendor_movements(&tx, vendor, currency, start, end).await?;
    let m = |amount: i64| Money::new(amount, currency);
    let mut balance = opening;
    let (mut total_debit, mut total_credit) = (0i64, 0i64);
    let lines = moved
        .into_iter()
        .map(|row| {
            balance += row.credit - row.debit;
            total_debit += row.debit;
            total_credit += row.credit;
            StatementLine {
                entry_id: row.entry,
                date: row.occurred_at,
                kind: row.kind,
                memo: row.memo,
                order_id: row.order.map(OrderId::from_uuid),
                vendor_order_id: row.vendor_order.map(VendorOrderId::from_uuid),
                debit: m(row.debit),
                credit: m(row.credit),
                balance: m(balance),
            }
        })
        .collect();
    Ok(Json(VendorStatement {
        vendor_id: vendor,
        currency: currency.code().to_owned(),
        from: period.from,
        to: period.to,
        opening_balance: m(opening),
        lines,
        total_debit: m(total_debit),
        total_credit: m(total_credit),
        closing_balance: m(balance),
    }))
}
