//! A vendor's payout account: set by the vendor's staff (`vendor.profile:write`) or the
//! merchant (`vendors:manage`), seen by them and by merchant staff with `vendors:read`.
//! Saving one completes the vendor's `payout_account` checklist items.

use super::commission::{MoneyIn, currency_at};
use super::vendor_to_change;
use crate::VendorsState;
use crate::domain::Vendor;
use crate::domain::checklist::ItemKind;
use crate::domain::payout::{
    self, Iban, PayoutAccount, PayoutAccountId, PayoutMethod, PayoutSchedule, StripeAccountId,
};
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, SubsecRound, Utc};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{Checks, Currency, Money, Problem};
use mercato_tenant_context::{Permission, TenantContext, VendorId, VendorPermission};
use mercato_vendors_api::payout::{PAYOUT_ACCOUNT_UPDATED, PayoutAccountUpdated};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<VendorsState> {
    Router::new().route(
        "/api/v1/vendors/{vendor_id}/payout-account",
        get(show).put(save),
    )
}

/// The whole account; a PUT replaces what was there.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutAccountIn {
    /// `bank_transfer` (give `account_holder` and `iban`) or `stripe_connect` (give
    /// `stripe_account_id`).
    pub method: String,
    #[serde(default)]
    pub account_holder: Option<String>,
    /// Spaces allowed: `DE89 3704 0044 0532 0130 00`.
    #[serde(default)]
    pub iban: Option<String>,
    /// `acct_…`
    #[serde(default)]
    pub stripe_account_id: Option<String>,
    /// `daily`, `weekly`, `monthly` or `manual`.
    pub schedule: String,
    /// No payout below this balance; in `currency`.
    pub minimum_payout: MoneyIn,
    /// The currency payouts are made in (ISO 4217).
    pub currency: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayoutAccountOut {
    pub id: PayoutAccountId,
    pub vendor_id: VendorId,
    /// `bank_transfer` or `stripe_connect`.
    pub method: String,
    pub account_holder: Option<String>,
    /// The IBAN with all but its last four characters as `*`; the full IBAN is never shown.
    pub iban_masked: Option<String>,
    pub stripe_account_id: Option<String>,
    pub schedule: PayoutSchedule,
    pub minimum_payout: Money,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl From<&PayoutAccount> for PayoutAccountOut {
    fn from(a: &PayoutAccount) -> Self {
        let (account_holder, iban_masked, stripe_account_id) = match &a.method {
            PayoutMethod::BankTransfer {
                account_holder,
                iban,
            } => (Some(account_holder.clone()), Some(iban.masked()), None),
            PayoutMethod::StripeConnect { account } => {
                (None, None, Some(account.as_str().to_owned()))
            }
        };
        Self {
            id: a.id,
            vendor_id: a.vendor,
            method: a.method.code().to_owned(),
            account_holder,
            iban_masked,
            stripe_account_id,
            schedule: a.schedule,
            minimum_payout: a.minimum_payout,
            currency: a.currency,
            created_at: a.created_at,
            updated_at: a.updated_at,
            updated_by: a.updated_by.clone(),
        }
    }
}

struct Terms {
    method: PayoutMethod,
    schedule: PayoutSchedule,
    minimum_payout: Money,
    currency: Currency,
}

fn parse(body: &PayoutAccountIn) -> Result<Terms, Problem> {
    let mut checks = Checks::default();
    let absent = |checks: &mut Checks, path: &str, value: &Option<String>, method: &str| {
        if value.is_some() {
            checks.push(path, format!("not used by the {method} method"));
        }
    };
    let required = |checks: &mut Checks, path: &str, value: &Option<String>| {
        if value.is_none() {
            checks.push(path, "required by this method");
        }
        value.clone()
    };
    let method = match body.method.as_str() {
        "bank_transfer" => {
            absent(
                &mut checks,
                "/stripe_account_id",
                &body.stripe_account_id,
                "bank_transfer",
            );
            let holder =
                required(&mut checks, "/account_holder", &body.account_holder).and_then(|h| {
                    crate::domain::vendor::check_name(&h, 140)
                        .map_err(|m| checks.push("/account_holder", m))
                        .ok()
                        .map(|()| h.trim().to_owned())
                });
            let iban = required(&mut checks, "/iban", &body.iban)
                .and_then(|i| Iban::parse(&i).map_err(|m| checks.push("/iban", m)).ok());
            holder
                .zip(iban)
                .map(|(account_holder, iban)| PayoutMethod::BankTransfer {
                    account_holder,
                    iban,
                })
        }
        "stripe_connect" => {
            absent(
                &mut checks,
                "/account_holder",
                &body.account_holder,
                "stripe_connect",
            );
            absent(&mut checks, "/iban", &body.iban, "stripe_connect");
            required(&mut checks, "/stripe_account_id", &body.stripe_account_id).and_then(|a| {
                StripeAccountId::parse(&a)
                    .map_err(|m| checks.push("/stripe_account_id", m))
                    .ok()
                    .map(|account| PayoutMethod::StripeConnect { account })
            })
        }
        _ => {
            checks.push("/method", "bank_transfer or stripe_connect");
            None
        }
    };
    let schedule = PayoutSchedule::parse(&body.schedule);
    if schedule.is_none() {
        checks.push("/schedule", "daily, weekly, monthly or manual");
    }
    let currency = currency_at(&mut checks, "/currency", &body.currency);
    let minimum = currency_at(
        &mut checks,
        "/minimum_payout/currency",
        &body.minimum_payout.currency,
    )
    .map(|c| Money::new(body.minimum_payout.amount, c));
    if body.minimum_payout.amount < 0 {
        checks.push("/minimum_payout/amount", "must not be negative");
    } else if let (Some(minimum), Some(currency)) = (minimum, currency) {
        checks.field(
            "/minimum_payout/currency",
            payout::check_minimum(minimum, currency),
        );
    }
    checks.finish()?;
    match (method, schedule, minimum, currency) {
        (Some(method), Some(schedule), Some(minimum_payout), Some(currency)) => Ok(Terms {
            method,
            schedule,
            minimum_payout,
            currency,
        }),
        // Unreachable: each missing part recorded a field error above.
        _ => Err(Problem::invalid_field("/", "an incomplete payout account")),
    }
}

/// The vendor, for reading its payout account: merchant staff who may see vendors, or the
/// vendor's staff allowed to change it. Strangers get 404.
async fn vendor_to_read(tx: &TenantTx, ctx: &TenantContext, id: &str) -> Result<Vendor, Problem> {
    let id: VendorId = path_id(id)?;
    if ctx.can(Permission::VendorsRead) {
        return repo::vendors::find(tx, id)
            .await?
            .ok_or_else(Problem::not_found);
    }
    Ok(
        vendor_to_change(tx, ctx, id, VendorPermission::ProfileWrite)
            .await?
            .0,
    )
}

#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}/payout-account", tag = "vendors",
    params(("vendor_id" = String, Path)),
    responses((status = 200, body = PayoutAccountOut), (status = 403),
        (status = 404, description = "no such vendor, not yours, or no payout account yet")))]
pub async fn show(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<PayoutAccountOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let vendor = vendor_to_read(&tx, &ctx, &id).await?;
    let account = repo::payout::find(&tx, vendor.id)
        .await?
        .ok_or_else(|| Problem::not_found().with_detail("this vendor has no payout account yet"))?;
    Ok(Json(PayoutAccountOut::from(&account)))
}

/// Sets the vendor's payout account, replacing any earlier one, and completes the vendor's
/// `payout_account` checklist items.
#[utoipa::path(put, path = "/api/v1/vendors/{vendor_id}/payout-account", tag = "vendors",
    request_body = PayoutAccountIn, params(("vendor_id" = String, Path)),
    responses((status = 200, body = PayoutAccountOut), (status = 403), (status = 404), (status = 422)))]
pub async fn save(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<PayoutAccountIn>,
) -> Result<Json<PayoutAccountOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::ProfileWrite).await?;
    let terms = parse(&body)?;
    let actor = ctx.actor.label();
    let now = Utc::now().trunc_subsecs(6);
    let earlier = repo::payout::find(&tx, vendor.id).await?;
    let account = PayoutAccount {
        id: earlier.as_ref().map_or_else(PayoutAccountId::new, |a| a.id),
        vendor: vendor.id,
        method: terms.method,
        schedule: terms.schedule,
        minimum_payout: terms.minimum_payout,
        currency: terms.currency,
        created_at: earlier.as_ref().map_or(now, |a| a.created_at),
        updated_at: now,
        updated_by: actor.clone(),
    };
    repo::payout::save(&tx, &account).await?;
    for item in repo::checklist::items(&tx).await? {
        if item.kind == ItemKind::PayoutAccount {
            repo::checklist::complete(&tx, vendor.id, &item.code, None, None, &actor).await?;
        }
    }
    let out = PayoutAccountOut::from(&account);
    let (account_holder, iban) = match &account.method {
        PayoutMethod::BankTransfer {
            account_holder,
            iban,
        } => (Some(account_holder.clone()), Some(iban.as_str().to_owned())),
        PayoutMethod::StripeConnect { .. } => (None, None),
    };
    let event = PayoutAccountUpdated {
        vendor_id: vendor.id,
        method: account.method.code().to_owned(),
        iban_masked: out.iban_masked.clone(),
        account_holder,
        iban,
        stripe_account_id: out.stripe_account_id.clone(),
        schedule: account.schedule,
        minimum_payout: account.minimum_payout,
        currency: account.currency,
        actor,
    };
    crate::events::publish(&*tx, PAYOUT_ACCOUNT_UPDATED, ctx.tenant, &event).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(out))
}
