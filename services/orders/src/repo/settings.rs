//! A shop's buying settings and its tax rates.

use super::{col, corrupt, json_col, statement};
use crate::domain::TaxRateId;
use crate::domain::tax::TaxRule;
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use serde::{Deserialize, Serialize};

/// How a shop sells; a shop that never set them has the deployment's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderSettings {
    /// Catalog prices include tax (typical in the EU) or tax is added on top.
    pub prices_include_tax: bool,
    /// How long an unpaid order holds its stock before it expires, in seconds (1 to 3300:
    /// the stock is held five minutes longer, and inventory holds at most an hour).
    pub order_ttl_secs: i64,
    /// How long a cart may sit untouched before it is removed, in seconds (60 to 7776000).
    pub cart_idle_secs: i64,
    /// How long after payment a customer may still cancel an unshipped order, in seconds
    /// (0 to 2592000; 0: only the merchant may cancel).
    pub cancel_window_secs: i64,
    /// Vendors may refund their own lines.
    pub vendor_refunds: bool,
    /// The payment providers shoppers may pay with (`test`, `stripe`), among those the
    /// platform offers; absent or null: every provider the platform offers. A checkout with
    /// any other is refused (422 `provider_not_accepted`).
    #[serde(default)]
    pub payment_providers: Option<Vec<String>>,
}

impl OrderSettings {
    /// Whether shoppers of this shop may pay with `provider` (which the platform offers).
    pub fn accepts(&self, provider: &str) -> bool {
        self.payment_providers
            .as_ref()
            .is_none_or(|accepted| accepted.iter().any(|p| p == provider))
    }
}

pub async fn load(tx: &TenantTx, defaults: OrderSettings) -> Result<OrderSettings, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT prices_include_tax, order_ttl_secs, cart_idle_secs, cancel_window_secs, \
               vendor_refunds, payment_providers FROM order_settings WHERE tenant_id = $1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    row.map_or(Ok(defaults), |row| settings_of(&row))
}

fn settings_of(row: &QueryResult) -> Result<OrderSettings, DbErr> {
    Ok(OrderSettings {
        prices_include_tax: col(row, "prices_include_tax")?,
        order_ttl_secs: col(row, "order_ttl_secs")?,
        cart_idle_secs: col(row, "cart_idle_secs")?,
        cancel_window_secs: col(row, "cancel_window_secs")?,
        vendor_refunds: col(row, "vendor_refunds")?,
        payment_providers: col::<Option<String>>(row, "payment_providers")?
            .map(|text| {
                serde_json::from_str(&text).map_err(|_| corrupt("payment providers", &text))
            })
            .transpose()?,
    })
}

/// What pricing a cart needs from its shop besides the cart: the settings, the tax rates
/// and the commission rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub settings: OrderSettings,
    pub tax_rules: Vec<TaxRule>,
    /// As their events carried them (see `quote` for how they are read).
    pub commission_rules: Vec<serde_json::Value>,
}

/// [`Rules`] in one statement: the settings row (`s`), the tax rates in country and category
/// order (`t`) and the commission rules (`c`), each kind in its own columns.
pub async fn rules(tx: &TenantTx, defaults: OrderSettings) -> Result<Rules, DbErr> {
    let tenant = tx.tenant().as_uuid();
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT 's' AS k, NULL AS a, NULL AS b, NULL AS c, prices_include_tax, \
               order_ttl_secs, cart_idle_secs, cancel_window_secs, vendor_refunds, \
               payment_providers FROM order_settings WHERE tenant_id = $1 \
             UNION ALL SELECT 't', country, category, rate, NULL, NULL, NULL, NULL, NULL, NULL \
               FROM tax_rates WHERE tenant_id = $2 \
             UNION ALL SELECT 'c', rule, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
               FROM commission_rules WHERE tenant_id = $3 AND NOT deleted \
             ORDER BY k, a, b",
            [tenant.into(), tenant.into(), tenant.into()],
        ))
        .await?;
    let mut rules = Rules {
        settings: defaults,
        tax_rules: Vec::new(),
        commission_rules: Vec::new(),
    };
    for row in &rows {
        let kind: String = col(row, "k")?;
        match kind.as_str() {
            "s" => rules.settings = settings_of(row)?,
            "t" => rules.tax_rules.push(tax_rule(row, "a", "b", "c")?),
            _ => rules.commission_rules.push(json_col(row, "a")?),
        }
    }
    Ok(rules)
}

pub async fn save(tx: &TenantTx, s: &OrderSettings, now: DateTime<Utc>) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO order_settings (tenant_id, prices_include_tax, order_ttl_secs, cart_idle_secs, \
           cancel_window_secs, vendor_refunds, payment_providers, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id) DO UPDATE SET prices_include_tax = excluded.prices_include_tax, \
           order_ttl_secs = excluded.order_ttl_secs, cart_idle_secs = excluded.cart_idle_secs, \
           cancel_window_secs = excluded.cancel_window_secs, \
           vendor_refunds = excluded.vendor_refunds, \
           payment_providers = excluded.payment_providers, updated_at = excluded.updated_at",
        [
            tx.tenant().as_uuid().into(),
            s.prices_include_tax.into(),
            s.order_ttl_secs.into(),
            s.cart_idle_secs.into(),
            s.cancel_window_secs.into(),
            s.vendor_refunds.into(),
            s.payment_providers
                .as_ref()
                .map(super::to_json)
                .transpose()?
                .into(),
            now.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// A stored tax rate.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxRate {
    pub id: TaxRateId,
    pub rule: TaxRule,
    pub created_at: DateTime<Utc>,
}

pub async fn tax_rates(tx: &TenantTx) -> Result<Vec<TaxRate>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT id, country, category, rate, created_at FROM tax_rates \
             WHERE tenant_id = $1 ORDER BY country, category",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TaxRate {
                id: TaxRateId::from_uuid(col(row, "id")?),
                rule: tax_rule(row, "country", "category", "rate")?,
                created_at: col(row, "created_at")?,
            })
        })
        .collect()
}

fn tax_rule(
    row: &QueryResult,
    country: &str,
    category: &str,
    rate: &str,
) -> Result<TaxRule, DbErr> {
    let rate: String = col(row, rate)?;
    Ok(TaxRule {
        country: col(row, country)?,
        category: col(row, category)?,
        rate: rate
            .parse::<Decimal>()
            .map_err(|_| corrupt("tax rate", &rate))?,
    })
}

/// Inserts or replaces the rate for its country and category.
pub async fn put_tax_rate(tx: &TenantTx, rate: &TaxRate) -> Result<TaxRateId, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "INSERT INTO tax_rates (tenant_id, id, country, category, rate, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, country, category) DO UPDATE SET rate = excluded.rate \
             RETURNING id",
            [
                tx.tenant().as_uuid().into(),
                rate.id.as_uuid().into(),
                rate.rule.country.clone().into(),
                rate.rule.category.clone().into(),
                rate.rule.rate.to_string().into(),
                rate.created_at.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    Ok(TaxRateId::from_uuid(col(&row, "id")?))
}

/// Removes the rate `id`; the rate as it was, `None` when there was none.
pub async fn delete_tax_rate(tx: &TenantTx, id: TaxRateId) -> Result<Option<TaxRate>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "DELETE FROM tax_rates WHERE tenant_id = $1 AND id = $2 \
             RETURNING id, country, category, rate, created_at",
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    row.map(|row| {
        Ok(TaxRate {
            id: TaxRateId::from_uuid(col(&row, "id")?),
            rule: tax_rule(&row, "country", "category", "rate")?,
            created_at: col(&row, "created_at")?,
        })
    })
    .transpose()
}
