//! Events the vendors service publishes, all version 1: `vendor.applied`,
//! `vendor.onboarding_started`, `vendor.submitted`, `vendor.changes_requested`,
//! `vendor.approved`, `vendor.rejected`, `vendor.suspended`, `vendor.reinstated` (the
//! lifecycle), `vendor.updated` (profile, shipping or holiday), `vendor.checklist_overridden`,
//! `commission_rule.created`, `commission_rule.deleted`, `payout_account.updated`.
//!
//! Every `vendor.*` event made by [`vendor`] carries `{ vendor_id, slug, store_name, status,
//! owner_user_id, holiday_until, reason, actor, shipping: { flat_rate, free_over } }` (money
//! or null). Both `commission_rule.*` events carry the whole rule and the actor (see
//! [`CommissionRuleSnapshot`], which reads them back into a [`CommissionRule`]).
//!
//! It consumes identity's `vendor_staff.removed` as [`STAFF_REMOVALS`]: when the applicant is
//! removed from their vendor, the vendor stops treating them as its owner.

use crate::domain::commission::{
    CommissionRule, CommissionRuleId, CurrencyLimits, Level, Percent, check_limits, check_validity,
};
use crate::domain::{Shipping, Vendor};
use chrono::{DateTime, Utc};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, TenantId, VendorId};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

pub use mercato_events::publish;

/// What every `vendor.*` event carries: enough for a consumer to mirror the vendor
/// (catalog hides the listings of vendors that are not approved, search shows the name).
#[derive(Serialize)]
struct VendorEvent<'a> {
    vendor_id: mercato_tenant_context::VendorId,
    slug: &'a str,
    store_name: &'a str,
    status: &'static str,
    owner_user_id: mercato_tenant_context::UserId,
    holiday_until: Option<chrono::NaiveDate>,
    reason: Option<&'a str>,
    actor: &'a str,
    /// What the vendor charges to ship (checkout mirrors it).
    shipping: Shipping,
}

pub async fn vendor(
    conn: &impl ConnectionTrait,
    name: &str,
    vendor: &Vendor,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), DbErr> {
    let payload = VendorEvent {
        vendor_id: vendor.id,
        slug: &vendor.slug,
        store_name: &vendor.store_name,
        status: vendor.status.code(),
        owner_user_id: vendor.owner,
        holiday_until: vendor.holiday_until,
        reason,
        actor,
        shipping: vendor.shipping,
    };
    publish(conn, name, vendor.tenant, &payload).await
}

/// `commission_rule.created` / `commission_rule.deleted`: the whole rule and who acted.
#[derive(Serialize)]
struct CommissionRuleEvent<'a> {
    id: CommissionRuleId,
    level: Level,
    vendor_id: Option<VendorId>,
    category_id: Option<CategoryId>,
    /// A decimal string (`"12.5"`).
    percent: Option<Percent>,
    fixed_fee: Option<Money>,
    limits: &'a [CurrencyLimits],
    valid_from: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    created_by: &'a str,
    actor: &'a str,
}

impl<'a> CommissionRuleEvent<'a> {
    fn new(rule: &'a CommissionRule, actor: &'a str) -> Self {
        Self {
            id: rule.id,
            level: rule.level(),
            vendor_id: rule.vendor,
            category_id: rule.category,
            percent: rule.percent,
            fixed_fee: rule.fixed_fee,
            limits: &rule.limits,
            valid_from: rule.valid_from,
            valid_until: rule.valid_until,
            created_at: rule.created_at,
            created_by: &rule.created_by,
            actor,
        }
    }
}

/// Publishes `name` (`commission_rule.created` or `.deleted`) for `rule`.
pub async fn commission_rule(
    conn: &impl ConnectionTrait,
    name: &str,
    tenant: TenantId,
    rule: &CommissionRule,
    actor: &str,
) -> Result<(), DbErr> {
    publish(conn, name, tenant, &CommissionRuleEvent::new(rule, actor)).await
}

/// A `commission_rule.created` (or `.deleted`) payload as a consumer reads it, e.g. orders
/// keeping a copy of the shop's rules to take commission at checkout. Convert it with
/// `CommissionRule::try_from`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommissionRuleSnapshot {
    pub id: CommissionRuleId,
    /// Follows from `vendor_id` and `category_id`; checked when converting.
    pub level: Level,
    #[serde(default)]
    pub vendor_id: Option<VendorId>,
    #[serde(default)]
    pub category_id: Option<CategoryId>,
    #[serde(default)]
    pub percent: Option<Percent>,
    #[serde(default)]
    pub fixed_fee: Option<Money>,
    #[serde(default)]
    pub limits: Vec<CurrencyLimits>,
    pub valid_from: DateTime<Utc>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Who created (or deleted) it.
    pub actor: String,
}

/// A snapshot that does not describe a rule the vendors service could have made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a commission rule: {0}")]
pub struct InvalidSnapshot(pub &'static str);

impl TryFrom<CommissionRuleSnapshot> for CommissionRule {
    type Error = InvalidSnapshot;

    fn try_from(s: CommissionRuleSnapshot) -> Result<Self, Self::Error> {
        if s.percent.is_none() && s.fixed_fee.is_none() {
            return Err(InvalidSnapshot("neither a percent nor a fixed fee"));
        }
        if s.fixed_fee.is_some_and(|fee| fee.amount < 0) {
            return Err(InvalidSnapshot("a negative fixed fee"));
        }
        for (i, limits) in s.limits.iter().enumerate() {
            check_limits(limits.min, limits.max).map_err(InvalidSnapshot)?;
            if s.limits[..i].iter().any(|l| l.currency == limits.currency) {
                return Err(InvalidSnapshot("limits for one currency twice"));
            }
        }
        check_validity(s.valid_from, s.valid_until).map_err(InvalidSnapshot)?;
        let rule = CommissionRule {
            id: s.id,
            vendor: s.vendor_id,
            category: s.category_id,
            percent: s.percent,
            fixed_fee: s.fixed_fee,
            limits: s.limits,
            valid_from: s.valid_from,
            valid_until: s.valid_until,
            created_at: s.created_at,
            created_by: s.created_by,
        };
        if rule.level() != s.level {
            return Err(InvalidSnapshot(
                "its level does not match its vendor and category",
            ));
        }
        Ok(rule)
    }
}

/// The durable consumer that ends an applicant's standing when identity removes them.
pub const STAFF_REMOVALS: &str = "vendors-staff-removals";
pub const STAFF_REMOVALS_PATTERNS: &[&str] = &["vendor_staff.removed"];

/// The part of `vendor_staff.removed` (identity, version 1) this consumer reads.
#[derive(serde::Deserialize)]
struct StaffRemoved {
    vendor_id: mercato_tenant_context::VendorId,
    user_id: mercato_tenant_context::UserId,
}

pub struct StaffRemovals(pub crate::VendorsState);

#[async_trait::async_trait]
impl mercato_events::Handler for StaffRemovals {
    async fn handle(
        &self,
        event: &mercato_events::Envelope,
    ) -> Result<(), mercato_events::HandlerError> {
        let removed: StaffRemoved = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, STAFF_REMOVALS, event).await? {
            return Ok(());
        }
        if let Some(mut found) = crate::repo::vendors::find(&tx, removed.vendor_id).await?
            && found.owner == removed.user_id
        {
            found.owner = Vendor::no_owner();
            found.updated_at = chrono::Utc::now();
            crate::repo::vendors::update(&tx, &found).await?;
            vendor(&*tx, "vendor.updated", &found, None, "identity").await?;
        }
        tx.commit().await?;
        self.0.outbox.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use mercato_kernel::Currency;

    fn rule() -> CommissionRule {
        let eur = Currency::parse("EUR").unwrap();
        CommissionRule {
            id: CommissionRuleId::new(),
            vendor: Some(VendorId::new()),
            category: None,
            percent: Some(Percent::parse("12.5").unwrap()),
            fixed_fee: Some(Money::new(30, eur)),
            limits: vec![CurrencyLimits {
                currency: eur,
                min: Some(50),
                max: None,
            }],
            valid_from: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
            valid_until: Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()),
            created_at: Utc.with_ymd_and_hms(2029, 12, 1, 8, 30, 0).unwrap(),
            created_by: "usr_x".into(),
        }
    }

    #[test]
    fn a_created_rule_reads_back_as_the_same_rule() {
        let rule = rule();
        let payload = serde_json::to_value(CommissionRuleEvent::new(&rule, "usr_y")).unwrap();
        assert_eq!(payload["percent"], "12.5");
        assert_eq!(payload["level"], "vendor");
        assert_eq!(
            payload["fixed_fee"],
            serde_json::json!({"amount": 30, "currency": "EUR"})
        );
        assert_eq!(payload["id"], rule.id.to_string());
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(payload).unwrap();
        assert_eq!(snapshot.actor, "usr_y");
        assert_eq!(CommissionRule::try_from(snapshot), Ok(rule));
    }

    #[test]
    fn a_snapshot_that_is_no_rule_is_refused() {
        let rule = rule();
        let payload = serde_json::to_value(CommissionRuleEvent::new(&rule, "usr_y")).unwrap();
        let mut wrong_level = payload.clone();
        wrong_level["level"] = "shop".into();
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(wrong_level).unwrap();
        assert!(CommissionRule::try_from(snapshot).is_err());
        let mut nothing = payload.clone();
        nothing["percent"] = serde_json::Value::Null;
        nothing["fixed_fee"] = serde_json::Value::Null;
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(nothing).unwrap();
        assert!(CommissionRule::try_from(snapshot).is_err());
        let mut bad_percent = payload;
        bad_percent["percent"] = "101".into();
        assert!(serde_json::from_value::<CommissionRuleSnapshot>(bad_percent).is_err());
    }

    #[test]
    fn vendor_events_carry_the_shipping_settings() {
        let eur = Currency::parse("EUR").unwrap();
        let shipping = Shipping {
            flat_rate: Some(Money::new(490, eur)),
            free_over: None,
        };
        assert_eq!(
            serde_json::to_value(shipping).unwrap(),
            serde_json::json!({"flat_rate": {"amount": 490, "currency": "EUR"}, "free_over": null})
        );
    }
}
