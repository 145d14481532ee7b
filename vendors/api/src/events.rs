//! The payloads of the `commission_rule.*` events, version 1, as the vendors service
//! publishes them ([`CommissionRuleEvent`]) and as a consumer reads them back
//! ([`CommissionRuleSnapshot`], which converts into a [`CommissionRule`]). Both events carry
//! the whole rule and the actor.

use crate::commission::{
    CommissionRule, CommissionRuleId, CurrencyLimits, Level, Percent, check_limits, check_validity,
};
use chrono::{DateTime, Utc};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, VendorId};
use serde::{Deserialize, Serialize};

/// Every `commission_rule.*` event, for a subscription.
pub const COMMISSION_RULE_EVENTS: &str = "commission_rule.*";
/// Published when a shop adds a commission rule.
pub const COMMISSION_RULE_CREATED: &str = "commission_rule.created";
/// Published when a shop deletes a commission rule; carries the rule as it was.
pub const COMMISSION_RULE_DELETED: &str = "commission_rule.deleted";

/// A rule's current state, deleted or not, announced again for consumers catching up
/// (`mercato events republish vendors`).
pub const COMMISSION_RULE_REPUBLISHED: &str = "commission_rule.republished";

/// `commission_rule.created` / `.deleted` / `.republished` as published: the whole rule, who
/// acted, and whether the rule is deleted.
#[derive(Debug, Serialize)]
pub struct CommissionRuleEvent<'a> {
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
    deleted: bool,
}

impl<'a> CommissionRuleEvent<'a> {
    /// The rule, live or `deleted`, as `actor` left it.
    pub fn new(rule: &'a CommissionRule, actor: &'a str, deleted: bool) -> Self {
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
            deleted,
        }
    }
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
    /// Who created (or deleted) it: the event's, not the rule's (a copy may leave it out,
    /// as orders' mirror does, so a republished rule reads as the same rule).
    #[serde(default)]
    pub actor: String,
    /// Whether the rule is deleted (always on `commission_rule.deleted`; absent before
    /// republishing existed: false).
    #[serde(default)]
    pub deleted: bool,
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
        let payload =
            serde_json::to_value(CommissionRuleEvent::new(&rule, "usr_y", false)).unwrap();
        assert_eq!(payload["percent"], "12.5");
        assert_eq!(payload["level"], "vendor");
        assert_eq!(
            payload["fixed_fee"],
            serde_json::json!({"amount": 30, "currency": "EUR"})
        );
        assert_eq!(payload["id"], rule.id.to_string());
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(payload.clone()).unwrap();
        assert_eq!(snapshot.actor, "usr_y");
        assert!(!snapshot.deleted);
        assert_eq!(CommissionRule::try_from(snapshot), Ok(rule.clone()));

        // A deleted rule says so; a payload from before the flag existed is a live rule.
        let deleted = serde_json::to_value(CommissionRuleEvent::new(&rule, "usr_y", true)).unwrap();
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(deleted).unwrap();
        assert!(snapshot.deleted);
        let mut older = payload;
        older.as_object_mut().unwrap().remove("deleted");
        let snapshot: CommissionRuleSnapshot = serde_json::from_value(older).unwrap();
        assert!(!snapshot.deleted);
    }

    #[test]
    fn a_snapshot_that_is_no_rule_is_refused() {
        let rule = rule();
        let payload =
            serde_json::to_value(CommissionRuleEvent::new(&rule, "usr_y", false)).unwrap();
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
}
