//! The shop's commission rules, and the answer to "what commission applies to this line".
//! The rules themselves (levels, precedence, rounding) are in [`crate::domain::commission`].

use super::{Standing, visible_vendor};
use crate::VendorsState;
use crate::domain::commission::{
    self, CommissionRule, CommissionRuleId, CurrencyLimits, Level, Line, Percent,
};
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, SubsecRound, Utc};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, Currency, ListQuery, ListResponse, Money, Problem};
use mercato_tenant_context::{Actor, CategoryId, Permission, TenantContext, VendorId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<VendorsState> {
    Router::new()
        .route("/api/v1/commission-rules", post(create).get(list))
        .route(
            "/api/v1/commission-rules/{rule_id}",
            get(show).delete(remove),
        )
        .route("/api/v1/commission/quote", get(quote))
}

/// Money as a client sends it; the currency is checked by hand so a 422 can name the field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyIn {
    /// Minor units (cents).
    pub amount: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

/// Parses a currency code, recording a field error under `path` when it is not one.
pub(crate) fn currency_at(checks: &mut Checks, path: &str, code: &str) -> Option<Currency> {
    match Currency::parse(code) {
        Ok(currency) => Some(currency),
        Err(e) => {
            checks.push(path, e.to_string());
            None
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrencyLimitsIn {
    pub currency: String,
    /// Least commission, in minor units of `currency`.
    #[serde(default)]
    pub min: Option<i64>,
    /// Most commission, in minor units of `currency`.
    #[serde(default)]
    pub max: Option<i64>,
}

/// A new rule. Its level follows from what it names: both a vendor and a category, a
/// vendor, a category, or neither (the shop's default).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionRuleIn {
    /// `ven_…`: the rule is for this vendor only.
    #[serde(default)]
    pub vendor_id: Option<String>,
    /// `cat_…`: the rule is for sales in this category only.
    #[serde(default)]
    pub category_id: Option<String>,
    /// Percentage of the line amount, 0 to 100 with at most 4 decimals, as a string
    /// (`"12.5"`); whole numbers may be sent as numbers.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "12.5")]
    pub percent: Option<serde_json::Value>,
    /// Added to the percentage on lines in the fee's currency only.
    #[serde(default)]
    pub fixed_fee: Option<MoneyIn>,
    /// Per-currency minimum and maximum commission; one entry per currency.
    #[serde(default)]
    pub limits: Vec<CurrencyLimitsIn>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// RFC 3339, exclusive; open-ended when absent.
    #[serde(default)]
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommissionRuleOut {
    pub id: CommissionRuleId,
    pub level: Level,
    pub vendor_id: Option<VendorId>,
    pub category_id: Option<CategoryId>,
    /// A decimal string (`"12.5"` is 12.5 %).
    #[schema(value_type = Option<String>, example = "12.5")]
    pub percent: Option<Percent>,
    pub fixed_fee: Option<Money>,
    pub limits: Vec<CurrencyLimits>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl From<&CommissionRule> for CommissionRuleOut {
    fn from(r: &CommissionRule) -> Self {
        Self {
            id: r.id,
            level: r.level(),
            vendor_id: r.vendor,
            category_id: r.category,
            percent: r.percent,
            fixed_fee: r.fixed_fee,
            limits: r.limits.clone(),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            created_at: r.created_at,
            created_by: r.created_by.clone(),
        }
    }
}

fn timestamp(checks: &mut Checks, path: &str, text: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(text) {
        // Stored with microseconds on PostgreSQL: keep what the database keeps.
        Ok(t) => Some(t.with_timezone(&Utc).trunc_subsecs(6)),
        Err(_) => {
            checks.push(path, "an RFC 3339 timestamp such as 2030-01-31T00:00:00Z");
            None
        }
    }
}

fn parse_percent(checks: &mut Checks, value: &serde_json::Value) -> Option<Percent> {
    let parsed = match value {
        serde_json::Value::String(text) => Percent::parse(text),
        serde_json::Value::Number(n) if n.is_u64() => Percent::parse(&n.to_string()),
        serde_json::Value::Number(n) if n.is_i64() => Err("a percentage from 0 to 100"),
        serde_json::Value::Number(_) => {
            Err("send a fractional percentage as a string, e.g. \"12.5\"")
        }
        _ => Err("a decimal such as \"12.5\""),
    };
    parsed.map_err(|m| checks.push("/percent", m)).ok()
}

/// The rule the body describes, or a 422 naming every bad field. The vendor's existence is
/// checked by the caller.
fn parse_rule(body: &CommissionRuleIn, actor: String) -> Result<CommissionRule, Problem> {
    let mut checks = Checks::default();
    let vendor = body.vendor_id.as_deref().and_then(|text| {
        text.parse::<VendorId>()
            .map_err(|_| checks.push("/vendor_id", "a vendor id (ven_…)"))
            .ok()
    });
    let category = body.category_id.as_deref().and_then(|text| {
        text.parse::<CategoryId>()
            .map_err(|_| checks.push("/category_id", "a category id (cat_…)"))
            .ok()
    });
    let percent = body
        .percent
        .as_ref()
        .and_then(|v| parse_percent(&mut checks, v));
    let fixed_fee = body.fixed_fee.as_ref().and_then(|fee| {
        if fee.amount < 0 {
            checks.push("/fixed_fee/amount", "must not be negative");
        }
        let currency = currency_at(&mut checks, "/fixed_fee/currency", &fee.currency)?;
        Some(Money::new(fee.amount, currency))
    });
    if body.percent.is_none() && body.fixed_fee.is_none() {
        checks.push("/percent", "give a percent, a fixed_fee or both");
    }
    let mut limits: Vec<CurrencyLimits> = Vec::new();
    for (i, limit) in body.limits.iter().enumerate() {
        checks.field(
            &format!("/limits/{i}"),
            commission::check_limits(limit.min, limit.max),
        );
        let Some(currency) = currency_at(
            &mut checks,
            &format!("/limits/{i}/currency"),
            &limit.currency,
        ) else {
            continue;
        };
        if limits.iter().any(|l| l.currency == currency) {
            checks.push(&format!("/limits/{i}/currency"), "appears twice");
        }
        limits.push(CurrencyLimits {
            currency,
            min: limit.min,
            max: limit.max,
        });
    }
    limits.sort_by_key(|l| l.currency);
    let now = Utc::now().trunc_subsecs(6);
    let valid_from = match body.valid_from.as_deref() {
        Some(text) => timestamp(&mut checks, "/valid_from", text),
        None => Some(now),
    };
    let valid_until = match body.valid_until.as_deref() {
        Some(text) => timestamp(&mut checks, "/valid_until", text).map(Some),
        None => Some(None),
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        checks.field("/valid_until", commission::check_validity(from, until));
    }
    checks.finish()?;
    match (valid_from, valid_until) {
        (Some(valid_from), Some(valid_until)) => Ok(CommissionRule {
            id: CommissionRuleId::new(),
            vendor,
            category,
            percent,
            fixed_fee,
            limits,
            valid_from,
            valid_until,
            created_at: now,
            created_by: actor,
        }),
        // Unreachable: a timestamp that did not parse recorded a field error above.
        _ => Err(Problem::invalid_field(
            "/valid_from",
            "an RFC 3339 timestamp",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/commission-rules", tag = "commission", request_body = CommissionRuleIn,
    responses((status = 201, body = CommissionRuleOut), (status = 403),
        (status = 422, description = "a bad field, or a vendor_id this shop does not have")))]
pub async fn create(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Json(body): Json<CommissionRuleIn>,
) -> Result<(StatusCode, Json<CommissionRuleOut>), Problem> {
    ctx.require(Permission::CommissionManage)?;
    let actor = ctx.actor.label();
    let rule = parse_rule(&body, actor.clone())?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    if let Some(vendor) = rule.vendor
        && repo::vendors::find(&tx, vendor).await?.is_none()
    {
        // Another shop's vendor reads the same as no vendor at all.
        return Err(Problem::invalid_field(
            "/vendor_id",
            "this shop has no such vendor",
        ));
    }
    repo::commission::insert(&tx, &rule).await?;
    let out = CommissionRuleOut::from(&rule);
    crate::events::commission_rule(
        &*tx,
        crate::events::COMMISSION_RULE_CREATED,
        ctx.tenant,
        &rule,
        &actor,
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::CREATED, Json(out)))
}

/// `?limit=&cursor=` and an optional vendor.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RuleListQuery {
    /// How many items, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `ven_…`: only the rules naming this vendor (its vendor and vendor+category rules).
    pub vendor_id: Option<String>,
}

fn may_read_rules(ctx: &TenantContext) -> Result<(), Problem> {
    if ctx.can(Permission::CommissionManage) {
        Ok(())
    } else {
        ctx.require(Permission::VendorsRead)
    }
}

#[utoipa::path(get, path = "/api/v1/commission-rules", tag = "commission", params(RuleListQuery),
    responses((status = 200, body = ListResponse<CommissionRuleOut>), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Query(query): Query<RuleListQuery>,
) -> Result<Json<ListResponse<CommissionRuleOut>>, Problem> {
    may_read_rules(&ctx)?;
    let (limit, cursor) = (ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    })
    .page::<CommissionRuleId>()?;
    let vendor = match query.vendor_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<VendorId>()
                .map_err(|_| Problem::invalid_field("/vendor_id", "a vendor id (ven_…)"))?,
        ),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::commission::list(&tx, vendor, cursor, limit + 1).await?;
    let rows = rows.iter().map(CommissionRuleOut::from).collect();
    Ok(Json(ListResponse::from_overfetch(rows, limit, |r| {
        r.id.to_string()
    })))
}

async fn load(tx: &mercato_db::TenantTx, id: &str) -> Result<CommissionRule, Problem> {
    repo::commission::find(tx, path_id(id)?)
        .await?
        .ok_or_else(Problem::not_found)
}

#[utoipa::path(get, path = "/api/v1/commission-rules/{rule_id}", tag = "commission",
    params(("rule_id" = String, Path)),
    responses((status = 200, body = CommissionRuleOut), (status = 404)))]
pub async fn show(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<CommissionRuleOut>, Problem> {
    may_read_rules(&ctx)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(CommissionRuleOut::from(&load(&tx, &id).await?)))
}

/// Ends a rule at once: quotes no longer use it. The rule stays on record.
#[utoipa::path(delete, path = "/api/v1/commission-rules/{rule_id}", tag = "commission",
    params(("rule_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::CommissionManage)?;
    let actor = ctx.actor.label();
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let rule = load(&tx, &id).await?;
    if !repo::commission::delete(&tx, rule.id, &actor).await? {
        return Err(Problem::not_found());
    }
    crate::events::commission_rule(
        &*tx,
        crate::events::COMMISSION_RULE_DELETED,
        ctx.tenant,
        &rule,
        &actor,
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// A line to quote: `vendor_id`, `amount` (minor units, ≥ 0) and `currency` are required.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// `ven_…`
    #[param(required = true, pattern = "^ven_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    pub vendor_id: Option<String>,
    /// `cat_…`: the category the line's product is in.
    #[param(pattern = "^(cat_[0-7][0-9a-hjkmnp-tv-z]{25})?$")]
    pub category_id: Option<String>,
    /// The line amount in minor units, not negative.
    #[param(required = true, pattern = "^[0-9]{1,18}$")]
    pub amount: Option<String>,
    /// ISO 4217, one of the currencies the platform knows, e.g. `EUR`.
    #[param(
        required = true,
        pattern = "^(AUD|BRL|CAD|CHF|CNY|CZK|DKK|EUR|GBP|HKD|HUF|INR|JPY|KRW|MXN|NOK|NZD|PLN|RON|SEK|SGD|USD|ZAR|BHD|KWD|TND)$"
    )]
    pub currency: Option<String>,
    /// RFC 3339; default now. Rules valid at this instant are considered.
    #[param(format = DateTime)]
    pub at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuoteOut {
    /// The commission on the line: zero when no rule applies.
    pub commission: Money,
    /// The rule that applies, or null.
    pub rule: Option<CommissionRuleOut>,
    /// The matched rule's level, or null.
    pub level: Option<Level>,
}

fn parse_line(query: &QuoteQuery) -> Result<(VendorId, Line), Problem> {
    let mut checks = Checks::default();
    let required = |checks: &mut Checks, path: &str, value: &Option<String>| {
        let value = value.as_deref().filter(|v| !v.is_empty());
        if value.is_none() {
            checks.push(path, "required");
        }
        value.map(str::to_owned)
    };
    let vendor = required(&mut checks, "/vendor_id", &query.vendor_id).and_then(|text| {
        text.parse::<VendorId>()
            .map_err(|_| checks.push("/vendor_id", "a vendor id (ven_…)"))
            .ok()
    });
    let category = match query.category_id.as_deref() {
        None | Some("") => None,
        Some(text) => text
            .parse::<CategoryId>()
            .map_err(|_| checks.push("/category_id", "a category id (cat_…)"))
            .ok(),
    };
    let amount = required(&mut checks, "/amount", &query.amount).and_then(|text| {
        match text.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                checks.push("/amount", "a whole number of minor units, not negative");
                None
            }
        }
    });
    let currency = required(&mut checks, "/currency", &query.currency)
        .and_then(|code| currency_at(&mut checks, "/currency", &code));
    let at = match query.at.as_deref() {
        None | Some("") => Some(Utc::now()),
        Some(text) => timestamp(&mut checks, "/at", text),
    };
    checks.finish()?;
    match (vendor, amount, currency, at) {
        (Some(vendor), Some(amount), Some(currency), Some(at)) => Ok((
            vendor,
            Line {
                amount: Money::new(amount, currency),
                vendor,
                category,
                at,
            },
        )),
        // Unreachable: each missing value recorded a field error above.
        _ => Err(Problem::invalid_field("/", "an incomplete line")),
    }
}

/// What commission the shop takes of one line, and the rule that decides it. Merchant staff
/// may ask for any vendor; a vendor's staff for their own vendor only (any other is a 404).
#[utoipa::path(get, path = "/api/v1/commission/quote", tag = "commission", params(QuoteQuery),
    responses((status = 200, body = QuoteOut), (status = 404, description = "no such vendor, or not yours"),
        (status = 422)))]
pub async fn quote(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Query(query): Query<QuoteQuery>,
) -> Result<Json<QuoteOut>, Problem> {
    let (vendor, line) = parse_line(&query)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (_, standing) = visible_vendor(&tx, &ctx, vendor).await?;
    match standing {
        Standing::Manager | Standing::Reader | Standing::Staff => {}
        // A shopper may see the vendor's store, not its terms with the shop.
        Standing::Public if ctx.actor == Actor::Anonymous => {
            return Err(Problem::unauthorized("sign in to do this"));
        }
        Standing::Public => return Err(Problem::not_found()),
    }
    let rules = repo::commission::candidates(&tx, vendor, line.category).await?;
    let out = match commission::quote(&rules, &line) {
        Some(q) => QuoteOut {
            commission: q.commission,
            rule: Some(CommissionRuleOut::from(q.rule)),
            level: Some(q.level),
        },
        None => QuoteOut {
            commission: Money::zero(line.amount.currency),
            rule: None,
            level: None,
        },
    };
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(paths(
        super::create,
        super::list,
        super::show,
        super::remove,
        super::quote,
        crate::http::payout::show,
        crate::http::payout::save,
    ))]
    struct Doc;

    #[test]
    fn the_endpoints_are_documented_with_their_schemas() {
        let doc = serde_json::to_value(Doc::openapi()).unwrap();
        for path in [
            "/api/v1/commission-rules",
            "/api/v1/commission-rules/{rule_id}",
            "/api/v1/commission/quote",
            "/api/v1/vendors/{vendor_id}/payout-account",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        for schema in [
            "CommissionRuleIn",
            "CommissionRuleOut",
            "QuoteOut",
            "PayoutAccountIn",
            "PayoutAccountOut",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} missing"
            );
        }
    }
}
