//! The payouts API. Merchant staff with `payouts:manage` start runs, mark bank transfers
//! and set the hold; they and staff with `ledger:read` read every vendor's balance and
//! payouts. A vendor's staff read their own vendor's; another vendor's do not exist for
//! them (404), nor do another shop's.

use crate::PayoutsState;
use crate::domain::{self, Balance, MAX_HOLD_DAYS};
use crate::repo::{self, Payout};
use crate::runs;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Currency, ListQuery, ListResponse, Money, Problem};
use mercato_payouts_api::{PayoutId, PayoutRunId, PayoutStatus};
use mercato_tenant_context::{
    Actor, Permission, TenantContext, VendorAccess, VendorId, VendorPermission,
};
use serde::{Deserialize, Serialize};

mercato_kernel::problem_codes! {
    /// Every problem the payouts service gives besides the kernel's common ones.
    pub enum PayoutsProblem in "payouts" {
        IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "Idempotency key reused"),
        InvalidTransition = (CONFLICT, "invalid_transition", "Conflict"),
        NotMarkable = (CONFLICT, "not_markable", "Conflict"),
        BankAccountMissing = (CONFLICT, "bank_account_missing", "Conflict"),
        NothingToExport = (CONFLICT, "nothing_to_export", "Conflict"),
        CreditorAccountMissing = (CONFLICT, "creditor_account_missing", "Conflict"),
        InvalidSignature = (BAD_REQUEST, "invalid_signature", "Bad request"),
        InvalidEvent = (BAD_REQUEST, "invalid_event", "Bad request"),
    }
}

pub fn router() -> Router<PayoutsState> {
    Router::new()
        .route("/api/v1/vendors/{vendor_id}/balance", get(balance))
        .route("/api/v1/payouts", get(list_payouts))
        .route("/api/v1/payouts/runs", post(start_run))
        .route("/api/v1/payouts/runs/{id}", get(show_run))
        .route("/api/v1/payouts/runs/{id}/pain001", get(pain001))
        .route(
            "/api/v1/payouts/settings",
            get(show_settings).put(update_settings),
        )
        .route("/api/v1/payouts/{id}", get(show_payout))
        .route("/api/v1/payouts/{id}/mark", post(mark_payout))
}

/// Merchant staff who may read every vendor's balance and payouts.
fn merchant_reader(ctx: &TenantContext) -> bool {
    ctx.can(Permission::PayoutsManage) || ctx.can(Permission::LedgerRead)
}

/// Merchant staff who read every vendor's money, or a vendor's own staff (see
/// `TenantContext::require_vendor_money`).
fn may_read_vendor(ctx: &TenantContext, vendor: VendorId) -> Result<(), Problem> {
    ctx.require_vendor_money(&[Permission::LedgerRead, Permission::PayoutsManage], vendor)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    /// ISO 4217; by default the currency of the vendor's payout account, else of its first
    /// earnings.
    pub currency: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BalanceOut {
    pub vendor_id: VendorId,
    /// Earned, not delivered yet or inside the shop's hold.
    pub pending: Money,
    /// Ready to be paid out; negative after a refund of money already paid out, which the
    /// next payouts recover first.
    pub available: Money,
    /// In payouts on their way.
    pub in_transit: Money,
    /// Paid out so far.
    pub paid_out: Money,
}

fn currency_of(path: &str, code: &str) -> Result<Currency, Problem> {
    Currency::parse(code).map_err(|_| {
        Problem::invalid_field(path, "an ISO 4217 currency code Mercato knows, e.g. EUR")
    })
}

/// A vendor's balance in one currency.
#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}/balance", tag = "payouts",
    params(("vendor_id" = String, Path), BalanceQuery),
    responses((status = 200, body = BalanceOut),
        (status = 404, description = "No such vendor for the caller, or one with no payout account and no earnings yet"),
        (status = 422, description = "An unknown currency")))]
pub async fn balance(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Path(vendor): Path<String>,
    query: Result<Query<BalanceQuery>, Problem>,
) -> Result<Json<BalanceOut>, Problem> {
    let vendor: VendorId = path_id(&vendor)?;
    may_read_vendor(&ctx, vendor)?;
    let Query(query) = query?;
    let asked = query
        .currency
        .as_deref()
        .map(|code| currency_of("/currency", code))
        .transpose()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    // A vendor the shop never paid nor gave a payout account has no balance here (and
    // another shop's vendor is one of those).
    let account = repo::account(&tx, vendor, false).await?;
    let earned = repo::earning_currencies(&tx, vendor).await?;
    let currency = match (asked, &account, earned.first()) {
        (_, None, None) => return Err(Problem::not_found()),
        (Some(c), _, _) => c,
        (None, Some(a), _) => a.currency,
        (None, None, Some(c)) => *c,
    };
    let b: Balance = repo::sums(&*tx, ctx.tenant.as_uuid(), vendor, currency, crate::now())
        .await?
        .balance();
    let m = |amount| Money::new(amount, currency);
    Ok(Json(BalanceOut {
        vendor_id: vendor,
        pending: m(b.pending),
        available: m(b.available),
        in_transit: m(b.in_transit),
        paid_out: m(b.paid_out),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunOut {
    pub id: PayoutRunId,
    /// `queued`, `running` or `done`.
    pub status: String,
    /// Vendors with a payout account the run looks at, and how many it has looked at.
    pub vendors_due: i32,
    pub vendors_done: i32,
    pub started_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The day of a run made by vendors' schedules (it paid only the vendors due that day);
    /// `null` for a run merchant staff started.
    pub scheduled_for: Option<chrono::NaiveDate>,
}

impl From<repo::Run> for RunOut {
    fn from(r: repo::Run) -> Self {
        Self {
            id: r.id,
            status: r.status,
            vendors_due: r.vendors_due,
            vendors_done: r.vendors_done,
            started_by: r.started_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
            scheduled_for: r.scheduled_for,
        }
    }
}

/// Starts a payout run now: a job pays every vendor whose available balance is positive and
/// reaches its minimum, once, whatever its schedule. Send an `Idempotency-Key`: the same key
/// starts one run (a repeat answers 200 with it).
#[utoipa::path(post, path = "/api/v1/payouts/runs", tag = "payouts",
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 202, body = RunOut, description = "Queued"),
        (status = 200, body = RunOut, description = "The run this key started before"),
        (status = 400, description = "No Idempotency-Key"),
        (status = 403, description = "Without `payouts:manage`"),
        (status = 422, description = "An Idempotency-Key that is not 1 to 255 visible ASCII characters")))]
pub async fn start_run(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<RunOut>), Problem> {
    ctx.require(Permission::PayoutsManage)?;
    let key = mercato_kernel::http::required_idempotency_key(&headers)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    if let Some(run) = repo::run_by_key(&tx, &key).await? {
        return Ok((StatusCode::OK, Json(run.into())));
    }
    let run = runs::enqueue(&tx, Some(key), &ctx.actor.label(), None).await?;
    tx.commit().await?;
    state.runs.notify_one();
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// A payout run with its progress.
#[utoipa::path(get, path = "/api/v1/payouts/runs/{id}", tag = "payouts",
    params(("id" = String, Path)),
    responses((status = 200, body = RunOut), (status = 404)))]
pub async fn show_run(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<RunOut>, Problem> {
    if !merchant_reader(&ctx) {
        return Err(Problem::not_found());
    }
    let id: PayoutRunId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let run = repo::run(&tx, id).await?.ok_or_else(Problem::not_found)?;
    Ok(Json(run.into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayoutOut {
    pub id: PayoutId,
    pub run_id: PayoutRunId,
    pub vendor_id: VendorId,
    pub amount: Money,
    pub status: PayoutStatus,
    /// `stripe_connect` or `bank_transfer`.
    pub method: String,
    /// The provider's transfer id, or the merchant's bank reference.
    pub reference: Option<String>,
    /// Why it failed (its money went back to the balance).
    pub failure: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Payout> for PayoutOut {
    fn from(p: Payout) -> Self {
        Self {
            id: p.id,
            run_id: p.run,
            vendor_id: p.vendor,
            amount: Money::new(p.amount, p.currency),
            status: p.status,
            method: p.method,
            reference: p.reference,
            failure: p.failure,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayoutsQuery {
    /// `ven_…`: one vendor's payouts (a vendor's staff see only their own; with one vendor
    /// it is the default).
    pub vendor_id: Option<String>,
    /// `prun_…`: one run's payouts.
    pub run_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Payouts, newest first.
#[utoipa::path(get, path = "/api/v1/payouts", tag = "payouts",
    params(PayoutsQuery),
    responses((status = 200, body = ListResponse<PayoutOut>),
        (status = 401), (status = 403),
        (status = 422, description = "A malformed vendor id, run id or cursor")))]
pub async fn list_payouts(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    query: Result<Query<PayoutsQuery>, Problem>,
) -> Result<Json<ListResponse<PayoutOut>>, Problem> {
    let Query(query) = query?;
    let vendor = match query.vendor_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<VendorId>()
                .map_err(|_| Problem::invalid_field("/vendor_id", "a vendor id (`ven_…`)"))?,
        ),
    };
    let run = match query.run_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<PayoutRunId>()
                .map_err(|_| Problem::invalid_field("/run_id", "a payout run id (`prun_…`)"))?,
        ),
    };
    let vendor = if merchant_reader(&ctx) {
        vendor
    } else {
        match (vendor, ctx.vendors.as_slice()) {
            (Some(v), _) => {
                may_read_vendor(&ctx, v)?;
                Some(v)
            }
            (None, [only]) => {
                ctx.require_vendor(only.vendor, VendorPermission::Read)?;
                Some(only.vendor)
            }
            (None, []) => {
                ctx.require(Permission::LedgerRead)?;
                None
            }
            (None, _) => {
                return Err(Problem::invalid_field(
                    "/vendor_id",
                    "you work for several vendors: name one",
                ));
            }
        }
    };
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<PayoutId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::payouts(&tx, vendor, run, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |p| p.id.to_string());
    Ok(Json(ListResponse {
        data: page.data.into_iter().map(PayoutOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One payout.
#[utoipa::path(get, path = "/api/v1/payouts/{id}", tag = "payouts",
    params(("id" = String, Path)),
    responses((status = 200, body = PayoutOut), (status = 404)))]
pub async fn show_payout(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<PayoutOut>, Problem> {
    let id: PayoutId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let payout = repo::payout(&tx, id, false)
        .await?
        .ok_or_else(Problem::not_found)?;
    if !merchant_reader(&ctx) && !ctx.can_for_vendor(payout.vendor, VendorPermission::Read) {
        return Err(Problem::not_found());
    }
    Ok(Json(payout.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkIn {
    /// `paid` (the bank transfer arrived) or `failed` (it came back).
    pub status: String,
    /// The bank's reference of the transfer, for `paid`.
    pub reference: Option<String>,
    /// Why it failed, for `failed`.
    pub reason: Option<String>,
}

/// Marks a bank-transfer payout paid or failed (merchant staff with `payouts:manage`); a
/// failed one gives its money back to the vendor's balance.
#[utoipa::path(post, path = "/api/v1/payouts/{id}/mark", tag = "payouts",
    params(("id" = String, Path)), request_body = MarkIn,
    responses((status = 200, body = PayoutOut), (status = 404),
        (status = 409, description = "Not a bank transfer on its way"),
        (status = 422, description = "Not `paid` or `failed`, or a reference or reason missing")))]
pub async fn mark_payout(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<MarkIn>,
) -> Result<Json<PayoutOut>, Problem> {
    if !merchant_reader(&ctx) {
        return Err(Problem::not_found());
    }
    ctx.require(Permission::PayoutsManage)?;
    let id: PayoutId = path_id(&id)?;
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (next, reference, reason) = match body.status.as_str() {
        "paid" => (PayoutStatus::Paid, trimmed(&body.reference), None),
        "failed" => {
            let reason = trimmed(&body.reason)
                .ok_or_else(|| Problem::invalid_field("/reason", "say why it failed"))?;
            (PayoutStatus::Failed, None, Some(reason))
        }
        _ => return Err(Problem::invalid_field("/status", "`paid` or `failed`")),
    };
    if reference.as_ref().is_some_and(|r| r.len() > 140)
        || reason.as_ref().is_some_and(|r| r.len() > 500)
    {
        return Err(Problem::invalid_field(
            "/",
            "reference up to 140, reason up to 500 characters",
        ));
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let payout = repo::payout(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    if payout.method != "bank_transfer" {
        return Err(Problem::of(
            PayoutsProblem::NotMarkable,
            "only bank-transfer payouts are marked by hand; the provider reports the others",
        ));
    }
    if !payout.status.can_become(next) {
        return Err(Problem::of(
            PayoutsProblem::InvalidTransition,
            format!(
                "a {} payout cannot become {}",
                payout.status.code(),
                next.code()
            ),
        ));
    }
    let after = runs::transition(
        &tx,
        &payout,
        next,
        reference.as_deref(),
        reason.as_deref(),
        &ctx.actor.label(),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(after.into()))
}

/// The shop's bank account, which bank transfers to vendors leave from.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountIn {
    /// The account holder, as the bank knows the shop (1 to 70 characters).
    pub name: String,
    /// Spaces allowed: `DE89 3704 0044 0532 0130 00`.
    pub iban: String,
    /// The bank's BIC (8 or 11 characters); optional within SEPA.
    #[serde(default)]
    pub bic: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    /// Days after delivery before earnings become available (0 to 365; 7 by default).
    pub hold_days: i32,
    /// The shop's bank account, for the credit-transfer files of bank-transfer payouts; a
    /// PUT without it removes it.
    #[serde(default)]
    pub bank_account: Option<BankAccountIn>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BankAccountOut {
    pub name: String,
    /// Every character but the last four as `*`.
    pub iban_masked: String,
    pub bic: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsOut {
    pub hold_days: i32,
    pub bank_account: Option<BankAccountOut>,
}

fn settings_out(hold_days: i32, debtor: Option<repo::Debtor>) -> SettingsOut {
    SettingsOut {
        hold_days,
        bank_account: debtor.map(|d| BankAccountOut {
            name: d.name,
            iban_masked: mercato_vendors_api::payout::Iban::parse(&d.iban)
                .map(|i| i.masked())
                .unwrap_or_default(),
            bic: d.bic,
        }),
    }
}

/// The shop's payout settings.
#[utoipa::path(get, path = "/api/v1/payouts/settings", tag = "payouts",
    responses((status = 200, body = SettingsOut), (status = 403)))]
pub async fn show_settings(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
) -> Result<Json<SettingsOut>, Problem> {
    if !merchant_reader(&ctx) {
        ctx.require(Permission::PayoutsManage)?;
    }
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (hold_days, debtor) = repo::settings(&tx)
        .await?
        .unwrap_or((domain::DEFAULT_HOLD_DAYS, None));
    Ok(Json(settings_out(hold_days, debtor)))
}

/// Sets the shop's hold and bank account (merchant staff with `payouts:manage`). Vendor
/// orders delivered from now on wait `hold_days`; those delivered before keep the hold they
/// got.
#[utoipa::path(put, path = "/api/v1/payouts/settings", tag = "payouts",
    request_body = SettingsIn,
    responses((status = 200, body = SettingsOut), (status = 403),
        (status = 422, description = "A hold outside 0 to 365 days, or a bank account that is not one")))]
pub async fn update_settings(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Json(body): Json<SettingsIn>,
) -> Result<Json<SettingsOut>, Problem> {
    ctx.require(Permission::PayoutsManage)?;
    let mut errors = Vec::new();
    if !(0..=MAX_HOLD_DAYS).contains(&body.hold_days) {
        errors.push(mercato_kernel::FieldError::new(
            "/hold_days",
            "0 to 365 days",
        ));
    }
    let debtor = match &body.bank_account {
        None => None,
        Some(account) => {
            let name = account.name.trim();
            if name.is_empty() || name.chars().count() > 70 {
                errors.push(mercato_kernel::FieldError::new(
                    "/bank_account/name",
                    "1 to 70 characters",
                ));
            }
            let iban = mercato_vendors_api::payout::Iban::parse(&account.iban)
                .map_err(|m| {
                    errors.push(mercato_kernel::FieldError::new("/bank_account/iban", m));
                })
                .ok();
            let bic = account
                .bic
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_ascii_uppercase);
            if bic.as_deref().is_some_and(|b| {
                !(b.len() == 8 || b.len() == 11) || !b.bytes().all(|c| c.is_ascii_alphanumeric())
            }) {
                errors.push(mercato_kernel::FieldError::new(
                    "/bank_account/bic",
                    "a BIC: 8 or 11 letters and digits",
                ));
            }
            iban.map(|iban| repo::Debtor {
                name: name.to_owned(),
                iban: iban.as_str().to_owned(),
                bic,
            })
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let actor = match ctx.actor {
        Actor::Anonymous => return Err(Problem::unauthorized("sign in to do this")),
        _ => ctx.actor.label(),
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    repo::save_settings(&tx, body.hold_days, debtor.as_ref(), &actor).await?;
    tx.commit().await?;
    Ok(Json(settings_out(body.hold_days, debtor)))
}

/// The run's bank transfers on their way, as an ISO 20022 `pain.001.001.09` credit-transfer
/// file for the shop's bank (merchant staff with `payouts:manage`): one transfer per payout
/// from the shop's bank account (`bank_account` in the settings) to the vendor's, in euros.
/// The merchant uploads it to the bank, then marks each payout paid.
#[utoipa::path(get, path = "/api/v1/payouts/runs/{id}/pain001", tag = "payouts",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String,
            description = "The credit-transfer file"),
        (status = 404),
        (status = 409, description = "No bank account set for the shop, no euro bank transfer on its way in the run, or a vendor's payout account without its bank details")))]
pub async fn pain001(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    if !merchant_reader(&ctx) {
        return Err(Problem::not_found());
    }
    ctx.require(Permission::PayoutsManage)?;
    let id: PayoutRunId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let run = repo::run(&tx, id).await?.ok_or_else(Problem::not_found)?;
    let Some((_, Some(debtor))) = repo::settings(&tx).await? else {
        return Err(Problem::of(
            PayoutsProblem::BankAccountMissing,
            "set the shop's bank account (`bank_account` in /api/v1/payouts/settings) first",
        ));
    };
    let transfers: Vec<Payout> = repo::payouts(&tx, None, Some(run.id), None, 10_000)
        .await?
        .into_iter()
        .filter(|p| {
            p.method == "bank_transfer"
                && p.status == PayoutStatus::InTransit
                && p.currency.code() == "EUR"
        })
        .collect();
    if transfers.is_empty() {
        return Err(Problem::of(
            PayoutsProblem::NothingToExport,
            "the run has no euro bank transfer on its way",
        ));
    }
    let accounts = repo::accounts(&tx).await?;
    let mut credits = Vec::with_capacity(transfers.len());
    let mut missing = Vec::new();
    let remittances: Vec<String> = transfers
        .iter()
        .map(|p| format!("Mercato payout {}", p.id))
        .collect();
    let ids: Vec<String> = transfers.iter().map(|p| p.id.to_string()).collect();
    for ((p, remittance), end_to_end_id) in transfers.iter().zip(&remittances).zip(&ids) {
        let account = accounts.iter().find(|a| a.vendor == p.vendor);
        match account.and_then(|a| Some((a.account_holder.as_deref()?, a.iban.as_deref()?))) {
            Some((creditor_name, creditor_iban)) => credits.push(crate::pain001::Credit {
                end_to_end_id,
                amount: p.amount,
                creditor_name,
                creditor_iban,
                remittance,
            }),
            None => missing.push(p.vendor.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(Problem::of(
            PayoutsProblem::CreditorAccountMissing,
            format!(
                "no bank details for vendors {}: they save their payout account again",
                missing.join(", ")
            ),
        ));
    }
    let now = crate::now();
    let xml = crate::pain001::credit_transfer(
        &run.id.to_string(),
        now,
        now.date_naive(),
        &crate::pain001::Debtor {
            name: &debtor.name,
            iban: &debtor.iban,
            bic: debtor.bic.as_deref(),
        },
        &credits,
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/xml".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"pain001-{}.xml\"", run.id),
            ),
        ],
        xml,
    )
        .into_response())
}
