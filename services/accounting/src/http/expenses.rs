//! Expenses (ADR 0042): merchant staff with `ledger:write` record them (each posts one
//! balanced entry), attach a receipt and reverse them; with `ledger:read` they list and read
//! them. An expense is never changed or deleted: a correction is its reversal. Another
//! shop's expense does not exist (404).

use crate::AccountingState;
use crate::domain::expense::{self, Category, PaidFrom, Vat, VatRate};
use crate::domain::{EntryId, ExpenseId};
use crate::expenses::{self, NewExpense};
use crate::repo::expenses::{self as rows, Expense, Filter};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, Currency, ListQuery, ListResponse, Money, Problem};
use mercato_tenant_context::{Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AccountingState> {
    Router::new()
        .route("/api/v1/expenses", post(create).get(list))
        .route("/api/v1/expenses/{id}", get(show))
        .route("/api/v1/expenses/{id}/reverse", post(reverse))
        .route(
            "/api/v1/expenses/{id}/receipt",
            put(upload_receipt).get(download_receipt),
        )
}

/// A money amount as sent: minor units and an ISO 4217 code, checked by hand so a 422 can
/// name the field (documented as `Money`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountIn {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseIn {
    #[schema(value_type = Category)]
    pub category: String,
    /// What was bought, from whom (1–500 characters).
    pub description: String,
    /// The gross amount paid, VAT included.
    #[schema(value_type = Money)]
    pub amount: AmountIn,
    /// The VAT rate in the amount, a decimal percentage (`"19"`, `"7.5"`); `"0"` when
    /// neither this nor `vat` is given.
    pub vat_rate: Option<String>,
    /// The VAT in the amount as on the receipt, instead of `vat_rate`.
    #[schema(value_type = Option<Money>)]
    pub vat: Option<AmountIn>,
    /// The day it was incurred (`YYYY-MM-DD`): the entry's date, which decides the period
    /// it counts in.
    #[schema(value_type = String, format = Date)]
    pub incurred_on: String,
    /// `bank` (1200) by default, or `psp` (1100: paid from the payment provider's balance).
    #[schema(value_type = Option<PaidFrom>)]
    pub paid_from: Option<String>,
}

/// The receipt of an expense, served at `url`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceiptOut {
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpenseOut {
    pub id: ExpenseId,
    pub category: Category,
    pub description: String,
    /// The gross amount paid.
    pub amount: Money,
    /// The cost booked to the category's account.
    pub net: Money,
    /// The input VAT booked to 1300.
    pub vat: Money,
    /// The rate the VAT was worked out from; absent when the VAT amount was given.
    pub vat_rate: Option<String>,
    pub incurred_on: chrono::NaiveDate,
    pub paid_from: PaidFrom,
    /// `posted`, or `reversed` once its reversal is posted.
    pub status: String,
    /// The journal entry that booked it.
    pub entry_id: EntryId,
    pub reversal_entry_id: Option<EntryId>,
    pub reversed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub receipt: Option<ReceiptOut>,
    pub recorded_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Expense> for ExpenseOut {
    fn from(e: Expense) -> Self {
        let m = |amount: i64| Money::new(amount, e.currency);
        Self {
            id: e.id,
            category: e.category,
            description: e.description.clone(),
            amount: m(e.gross),
            net: m(e.net),
            vat: m(e.vat),
            vat_rate: e.vat_rate.clone(),
            incurred_on: e.incurred_on,
            paid_from: e.paid_from,
            status: if e.reversal.is_some() {
                "reversed"
            } else {
                "posted"
            }
            .to_owned(),
            entry_id: e.entry,
            reversal_entry_id: e.reversal.as_ref().map(|r| r.entry),
            reversed_at: e.reversal.as_ref().map(|r| r.at),
            receipt: e.receipt.as_ref().map(|r| ReceiptOut {
                content_type: r.content_type.clone(),
                size: r.size,
                url: format!("/api/v1/expenses/{}/receipt", e.id),
            }),
            recorded_by: e.recorded_by,
            created_at: e.created_at,
        }
    }
}

const MAX_DESCRIPTION_CHARS: usize = 500;
/// The earliest day an expense may be dated.
const EARLIEST: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(day) => day,
    None => chrono::NaiveDate::MIN,
};

/// Checks `input` whole, naming every bad field; the request in canonical form besides.
fn parse(input: ExpenseIn, key: String, recorded_by: String) -> Result<NewExpense, Problem> {
    let mut checks = Checks::default();
    let category = Category::parse(&input.category);
    if category.is_none() {
        checks.push(
            "/category",
            "one of product_cost, marketing, delivery_cost, other",
        );
    }
    let description = input.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION_CHARS {
        checks.push("/description", "1 to 500 characters");
    }
    let currency = Currency::parse(&input.amount.currency).ok();
    if currency.is_none() {
        checks.push(
            "/amount/currency",
            "an ISO 4217 currency code Mercato knows, e.g. EUR",
        );
    }
    if input.amount.amount <= 0 {
        checks.push("/amount/amount", "more than 0 (minor units)");
    }
    let vat = match (&input.vat_rate, &input.vat) {
        (Some(_), Some(_)) => {
            checks.push("/vat", "give either vat_rate or vat, not both");
            None
        }
        (None, None) => Some(Vat::Rate(VatRate::ZERO)),
        (Some(rate), None) => match VatRate::parse(rate) {
            Ok(rate) => Some(Vat::Rate(rate)),
            Err(message) => {
                checks.push("/vat_rate", message);
                None
            }
        },
        (None, Some(vat)) => {
            if currency.is_some() && Currency::parse(&vat.currency).ok() != currency {
                checks.push("/vat/currency", "the amount's currency");
                None
            } else if vat.amount < 0 || vat.amount > input.amount.amount {
                checks.push("/vat/amount", "from 0 to the amount");
                None
            } else {
                Some(Vat::Amount(vat.amount))
            }
        }
    };
    let today = chrono::Utc::now().date_naive();
    let incurred_on = match input.incurred_on.parse::<chrono::NaiveDate>() {
        Ok(day) if day < EARLIEST => {
            checks.push("/incurred_on", "on or after 2000-01-01");
            None
        }
        // A day ahead of UTC is still today somewhere.
        Ok(day)
            if day
                > today
                    .checked_add_days(chrono::Days::new(1))
                    .unwrap_or(today) =>
        {
            checks.push("/incurred_on", "not in the future");
            None
        }
        Ok(day) => Some(day),
        Err(_) => {
            checks.push("/incurred_on", "a date, YYYY-MM-DD");
            None
        }
    };
    let paid_from = match input.paid_from.as_deref() {
        None => Some(PaidFrom::Bank),
        Some(text) => {
            let parsed = PaidFrom::parse(text);
            if parsed.is_none() {
                checks.push("/paid_from", "bank or psp");
            }
            parsed
        }
    };
    checks.finish()?;
    let (Some(category), Some(currency), Some(vat), Some(incurred_on), Some(paid_from)) =
        (category, currency, vat, incurred_on, paid_from)
    else {
        return Err(Problem::invalid_field("/", "invalid expense"));
    };
    let split = expense::split(input.amount.amount, vat)
        .map_err(|e| Problem::invalid_field("/amount/amount", e.to_string()))?;
    let vat_rate = match vat {
        Vat::Rate(rate) => Some(rate.to_string()),
        Vat::Amount(_) => None,
    };
    let vat_amount = match vat {
        Vat::Amount(amount) => Some(amount),
        Vat::Rate(_) => None,
    };
    // What a replay must repeat: the request with its defaults filled in.
    let request = serde_json::json!({
        "category": category.code(),
        "description": description,
        "amount": Money::new(split.gross, currency),
        "vat_rate": vat_rate,
        "vat": vat_amount,
        "incurred_on": incurred_on,
        "paid_from": paid_from.code(),
    })
    .to_string();
    Ok(NewExpense {
        idempotency_key: key,
        request,
        category,
        description,
        currency,
        split,
        vat_rate,
        incurred_on,
        paid_from,
        recorded_by,
    })
}

/// Records an expense and posts its entry: debit the category's account the net, 1300
/// input VAT the VAT, credit 1200 bank (or 1100) the gross. Send an `Idempotency-Key`: the
/// same key with the same request gives back the expense it recorded (201 again, with
/// `Idempotent-Replayed: true`), with another request 422 `idempotency_key_reused`.
#[utoipa::path(post, path = "/api/v1/expenses", tag = "expenses",
    params(("Idempotency-Key" = String, Header, description = "Required")),
    request_body = ExpenseIn,
    responses((status = 201, body = ExpenseOut, description = "Recorded and posted (or recorded before with this key)"),
        (status = 400, description = "No Idempotency-Key"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Without `ledger:write`"),
        (status = 422, description = "Invalid fields (each named), or `idempotency_key_reused`")))]
pub async fn create(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    headers: HeaderMap,
    body: Result<Json<ExpenseIn>, Problem>,
) -> Result<Response, Problem> {
    ctx.require(Permission::LedgerWrite)?;
    let key = mercato_kernel::http::required_idempotency_key(&headers)?;
    let Json(input) = body?;
    let new = parse(input, key, ctx.actor.label())?;
    let recorded = expenses::record(&state.db, ctx.tenant, new).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(ExpenseOut::from(recorded.expense)),
    )
        .into_response();
    if recorded.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpensesQuery {
    /// Incurred on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Incurred on or before this day.
    pub to: Option<String>,
    /// `product_cost`, `marketing`, `delivery_cost` or `other`.
    pub category: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The shop's expenses in the order they were recorded.
#[utoipa::path(get, path = "/api/v1/expenses", tag = "expenses",
    params(ExpensesQuery),
    responses((status = 200, body = ListResponse<ExpenseOut>),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Without `ledger:read`"),
        (status = 422, description = "A malformed date, category or cursor")))]
pub async fn list(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    query: Result<Query<ExpensesQuery>, Problem>,
) -> Result<Json<ListResponse<ExpenseOut>>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let Query(query) = query?;
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<ExpenseId>()?;
    let mut checks = Checks::default();
    let mut day = |field: &str, text: Option<&str>| match text.map(str::parse::<chrono::NaiveDate>)
    {
        None => None,
        Some(Ok(day)) => Some(day),
        Some(Err(_)) => {
            checks.push(field, "a date, YYYY-MM-DD");
            None
        }
    };
    let from = day("/from", query.from.as_deref());
    let to = day("/to", query.to.as_deref());
    let category = match query.category.as_deref() {
        None => None,
        Some(text) => {
            let parsed = Category::parse(text);
            if parsed.is_none() {
                checks.push(
                    "/category",
                    "one of product_cost, marketing, delivery_cost, other",
                );
            }
            parsed
        }
    };
    checks.finish()?;
    let filter = Filter { from, to, category };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let found = rows::list(&tx, &filter, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(found, limit, |e| e.id.to_string());
    Ok(Json(ListResponse {
        data: page.data.into_iter().map(ExpenseOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One expense.
#[utoipa::path(get, path = "/api/v1/expenses/{id}", tag = "expenses",
    params(("id" = String, Path, description = "`exp_…`")),
    responses((status = 200, body = ExpenseOut),
        (status = 403, description = "Without `ledger:read`"),
        (status = 404, description = "No such expense in this shop")))]
pub async fn show(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ExpenseOut>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let id: ExpenseId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let expense = rows::find(&tx, id).await?.ok_or_else(Problem::not_found)?;
    Ok(Json(expense.into()))
}

/// Reverses an expense recorded in error: posts the mirror of its entry, dated now (a
/// closed period's figures stay as they were), and marks it `reversed`. Reversing it again
/// changes nothing and answers the same.
#[utoipa::path(post, path = "/api/v1/expenses/{id}/reverse", tag = "expenses",
    params(("id" = String, Path, description = "`exp_…`")),
    responses((status = 200, body = ExpenseOut, description = "Reversed"),
        (status = 403, description = "Without `ledger:write`"),
        (status = 404, description = "No such expense in this shop")))]
pub async fn reverse(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ExpenseOut>, Problem> {
    ctx.require(Permission::LedgerWrite)?;
    let id: ExpenseId = path_id(&id)?;
    let expense = expenses::reverse(&state.db, ctx.tenant, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(Json(expense.into()))
}

/// Attaches the receipt, the file itself as the body (PDF, PNG or JPEG, at most 10 MB and
/// at most the gateway's body limit; its type is read from its bytes), replacing any
/// earlier one. It counts against the plan's storage limit.
#[utoipa::path(put, path = "/api/v1/expenses/{id}/receipt", tag = "expenses",
    params(("id" = String, Path, description = "`exp_…`")),
    request_body(content = Vec<u8>, description = "The receipt: a PDF, PNG or JPEG, its type read from its bytes (send it as application/octet-stream or as its own type)", content_type = "application/octet-stream"),
    responses((status = 200, body = ExpenseOut),
        (status = 402, description = "`plan_limit_exceeded`: the shop's plan has no room for the file"),
        (status = 403, description = "Without `ledger:write`"),
        (status = 404, description = "No such expense in this shop"),
        (status = 413, description = "Larger than 10 MB"),
        (status = 415, description = "Not a PDF, PNG or JPEG, or not what its content type says"),
        (status = 422, description = "An empty body")))]
pub async fn upload_receipt(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ExpenseOut>, Problem> {
    ctx.require(Permission::LedgerWrite)?;
    let id: ExpenseId = path_id(&id)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::of(mercato_kernel::Common::BodyTooLarge, e.body_text())
        } else {
            Problem::of(mercato_kernel::Common::BadBody, e.body_text())
        }
    })?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let limit = ctx.terms.limits.storage_mb;
    let expense = expenses::store_receipt(
        &state.db,
        &state.storage,
        ctx.tenant,
        id,
        declared,
        body,
        limit,
    )
    .await?
    .ok_or_else(Problem::not_found)?;
    Ok(Json(expense.into()))
}

/// The receipt as it was uploaded.
#[utoipa::path(get, path = "/api/v1/expenses/{id}/receipt", tag = "expenses",
    params(("id" = String, Path, description = "`exp_…`")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "The file, with its content type"),
        (status = 403, description = "Without `ledger:read`"),
        (status = 404, description = "No such expense in this shop, or it has no receipt")))]
pub async fn download_receipt(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let id: ExpenseId = path_id(&id)?;
    let (expense, bytes) = expenses::receipt(&state.db, &state.storage, ctx.tenant, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let content_type = expense
        .receipt
        .as_ref()
        .map_or("application/octet-stream", |r| r.content_type.as_str())
        .to_owned();
    let extension =
        mercato_storage::MediaType::from_mime(&content_type).map_or("bin", |m| m.extension());
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.{extension}\"", expense.id),
            ),
        ],
        bytes,
    )
        .into_response())
}
