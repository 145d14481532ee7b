//! Commission rules. A deleted rule keeps its row (with who deleted it and when), so a
//! commission recorded on an order can always be traced to its rule; deleted rules are
//! invisible to every function here but [`everything`]. Lists page by id (UUIDv7, so oldest
//! first).

use super::corrupt;
use super::entities::commission_rule;
use crate::domain::commission::{CommissionRule, CommissionRuleId, CurrencyLimits, Percent};
use mercato_db::TenantTx;
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{CategoryId, VendorId};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use commission_rule::Column as C;

fn from_model(m: commission_rule::Model) -> Result<CommissionRule, DbErr> {
    let percent = match m.percent.as_deref() {
        Some(text) => Some(Percent::parse(text).map_err(|_| corrupt("commission percent", text))?),
        None => None,
    };
    let fixed_fee = match (m.fixed_fee_amount, m.fixed_fee_currency.as_deref()) {
        (Some(amount), Some(code)) => Some(Money::new(
            amount,
            Currency::parse(code).map_err(|_| corrupt("fee currency", code))?,
        )),
        (None, None) => None,
        _ => return Err(corrupt("fixed fee", "amount without currency")),
    };
    let limits: Vec<CurrencyLimits> = serde_json::from_value(m.limits)
        .map_err(|e| DbErr::Json(format!("stored commission limits: {e}")))?;
    Ok(CommissionRule {
        id: CommissionRuleId::from_uuid(m.id),
        vendor: m.vendor_id.map(VendorId::from_uuid),
        category: m.category_id.map(CategoryId::from_uuid),
        percent,
        fixed_fee,
        limits,
        valid_from: m.valid_from,
        valid_until: m.valid_until,
        created_at: m.created_at,
        created_by: m.created_by,
    })
}

pub async fn insert(tx: &TenantTx, rule: &CommissionRule) -> Result<(), DbErr> {
    let limits = serde_json::to_value(&rule.limits).map_err(|e| DbErr::Json(e.to_string()))?;
    let model = commission_rule::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(rule.id.as_uuid()),
        vendor_id: Set(rule.vendor.map(|v| v.as_uuid())),
        category_id: Set(rule.category.map(|c| c.as_uuid())),
        percent: Set(rule.percent.map(|p| p.to_string())),
        fixed_fee_amount: Set(rule.fixed_fee.map(|f| f.amount)),
        fixed_fee_currency: Set(rule.fixed_fee.map(|f| f.currency.code().to_owned())),
        limits: Set(limits),
        valid_from: Set(rule.valid_from),
        valid_until: Set(rule.valid_until),
        created_at: Set(rule.created_at),
        created_by: Set(rule.created_by.clone()),
        deleted_at: Set(None),
        deleted_by: Set(None),
    };
    commission_rule::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

fn live() -> sea_orm::Select<commission_rule::Entity> {
    commission_rule::Entity::find().filter(C::DeletedAt.is_null())
}

pub async fn find(tx: &TenantTx, id: CommissionRuleId) -> Result<Option<CommissionRule>, DbErr> {
    live()
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .filter(C::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// A page of the shop's rules after `after`; with `vendor`, only the rules naming it.
pub async fn list(
    tx: &TenantTx,
    vendor: Option<VendorId>,
    after: Option<CommissionRuleId>,
    limit: u64,
) -> Result<Vec<CommissionRule>, DbErr> {
    let mut query = live()
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(C::Id)
        .limit(limit);
    if let Some(vendor) = vendor {
        query = query.filter(C::VendorId.eq(vendor.as_uuid()));
    }
    if let Some(after) = after {
        query = query.filter(C::Id.gt(after.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Every rule that could apply to a line of `vendor` in `category`, whatever its validity:
/// the shop's defaults, the category's, the vendor's and the vendor's in the category. The
/// domain picks the one in force ([`crate::domain::commission::quote`]).
pub async fn candidates(
    tx: &TenantTx,
    vendor: VendorId,
    category: Option<CategoryId>,
) -> Result<Vec<CommissionRule>, DbErr> {
    let mut categories = Condition::any().add(C::CategoryId.is_null());
    if let Some(category) = category {
        categories = categories.add(C::CategoryId.eq(category.as_uuid()));
    }
    live()
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .filter(
            Condition::any()
                .add(C::VendorId.is_null())
                .add(C::VendorId.eq(vendor.as_uuid())),
        )
        .filter(categories)
        .order_by_asc(C::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Marks the rule deleted; false when it was not there (or deleted already).
pub async fn delete(tx: &TenantTx, id: CommissionRuleId, by: &str) -> Result<bool, DbErr> {
    // Microseconds: what PostgreSQL keeps.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
    let result = commission_rule::Entity::update_many()
        .col_expr(C::DeletedAt, sea_orm::sea_query::Expr::value(Some(now)))
        .col_expr(
            C::DeletedBy,
            sea_orm::sea_query::Expr::value(Some(by.to_owned())),
        )
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .filter(C::Id.eq(id.as_uuid()))
        .filter(C::DeletedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Every rule of the shop, the deleted ones too (with `true`), in id order and locked for
/// the rest of the transaction where the backend has row locks: what a republish announces.
pub async fn everything(tx: &TenantTx) -> Result<Vec<(CommissionRule, bool)>, DbErr> {
    commission_rule::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(C::Id)
        .lock_shared()
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| {
            let deleted = m.deleted_at.is_some();
            from_model(m).map(|rule| (rule, deleted))
        })
        .collect()
}
