//! Coupons, their usage counters and redemptions.

use super::{col, json_col, statement, to_json};
use crate::domain::{CouponId, OrderId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

/// A stored coupon: its terms as the merchant gave them (JSON of `http::coupons::CouponIn`).
#[derive(Debug, Clone)]
pub struct StoredCoupon {
    pub id: CouponId,
    pub code: String,
    pub terms: serde_json::Value,
    pub active: bool,
    pub used_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredCoupon {
    /// The domain coupon it stores.
    pub fn coupon(&self) -> Result<crate::domain::coupon::Coupon, DbErr> {
        let mut coupon: crate::domain::coupon::Coupon = serde_json::from_value(self.terms.clone())
            .map_err(|e| DbErr::Json(format!("stored coupon unreadable: {e}")))?;
        coupon.active = self.active;
        Ok(coupon)
    }
}

fn from_row(row: &QueryResult) -> Result<StoredCoupon, DbErr> {
    Ok(StoredCoupon {
        id: CouponId::from_uuid(col(row, "id")?),
        code: col(row, "code")?,
        terms: json_col(row, "definition")?,
        active: col(row, "active")?,
        used_count: col(row, "used_count")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

const COLUMNS: &str = "id, code, definition, active, used_count, created_at, updated_at";

pub async fn insert(tx: &TenantTx, c: &StoredCoupon) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO coupons (tenant_id, id, code, definition, active, used_count, created_at, \
           updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
        [
            tx.tenant().as_uuid().into(),
            c.id.as_uuid().into(),
            c.code.clone().into(),
            to_json(&c.terms)?.into(),
            c.active.into(),
            c.created_at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn update(tx: &TenantTx, c: &StoredCoupon) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE coupons SET definition = $3, active = $4, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            c.id.as_uuid().into(),
            to_json(&c.terms)?.into(),
            c.active.into(),
            c.updated_at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn find(tx: &TenantTx, id: CouponId) -> Result<Option<StoredCoupon>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND id = $2"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn find_by_code(tx: &TenantTx, code: &str) -> Result<Option<StoredCoupon>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND code = $2"),
        [tx.tenant().as_uuid().into(), code.to_owned().into()],
    ))
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn list(
    tx: &TenantTx,
    after: Option<CouponId>,
    limit: u64,
) -> Result<Vec<StoredCoupon>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND ($2 IS NULL OR id > $2) \
                 ORDER BY id LIMIT $3"
            ),
            [
                tx.tenant().as_uuid().into(),
                after.map(|a| a.as_uuid()).into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    rows.iter().map(from_row).collect()
}

/// How often `customer_key` (a user id or an email) redeemed the coupon.
pub async fn redemptions_by(tx: &TenantTx, id: CouponId, customer_key: &str) -> Result<i64, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT COUNT(*) AS n FROM coupon_redemptions \
             WHERE tenant_id = $1 AND coupon_id = $2 AND customer_key = $3",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                customer_key.to_owned().into(),
            ],
        ))
        .await?;
    row.map_or(Ok(0), |row| col(&row, "n"))
}

/// Counts one use, unless the total limit is reached (then false and nothing changes). The
/// guarded update makes two checkouts racing for the last use get one each at most.
pub async fn redeem(
    tx: &TenantTx,
    id: CouponId,
    limit: Option<i64>,
    order: OrderId,
    customer_key: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = tx
        .execute_raw(statement(
            &**tx,
            "UPDATE coupons SET used_count = used_count + 1 \
             WHERE tenant_id = $1 AND id = $2 AND ($3 IS NULL OR used_count < $3)",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                limit.into(),
            ],
        ))
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO coupon_redemptions (tenant_id, coupon_id, order_id, customer_key, redeemed_at) \
         VALUES ($1, $2, $3, $4, $5)",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            order.as_uuid().into(),
            customer_key.to_owned().into(),
            at.into(),
        ],
    ))
    .await?;
    Ok(true)
}

/// Gives a use back (the order expired or was cancelled before payment).
pub async fn release(tx: &TenantTx, id: CouponId, order: OrderId) -> Result<(), DbErr> {
    let deleted = tx
        .execute_raw(statement(
            &**tx,
            "DELETE FROM coupon_redemptions WHERE tenant_id = $1 AND coupon_id = $2 AND order_id = $3",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                order.as_uuid().into(),
            ],
        ))
        .await?;
    if deleted.rows_affected() > 0 {
        tx.execute_raw(statement(
            &**tx,
            "UPDATE coupons SET used_count = used_count - 1 \
             WHERE tenant_id = $1 AND id = $2 AND used_count > 0",
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    }
    Ok(())
}
