//! Carts and their lines.

use super::{col, for_update, statement, value_rows};
use crate::domain::{CartId, CartLineId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{UserId, VariantId};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use crate::domain::cart::*;

fn cart_from(row: &QueryResult) -> Result<Cart, DbErr> {
    let status: String = col(row, "status")?;
    Ok(Cart {
        id: CartId::from_uuid(col(row, "id")?),
        customer: col::<Option<uuid::Uuid>>(row, "customer_id")?.map(UserId::from_uuid),
        status: CartStatus::parse(&status).ok_or_else(|| super::corrupt("cart status", &status))?,
        country: col(row, "country")?,
        coupon_code: col(row, "coupon_code")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        lines: Vec::new(),
    })
}

pub async fn insert(tx: &TenantTx, cart: &Cart) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO carts (tenant_id, id, customer_id, status, country, coupon_code, created_at, \
           updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            tx.tenant().as_uuid().into(),
            cart.id.as_uuid().into(),
            cart.customer.map(|c| c.as_uuid()).into(),
            cart.status.code().into(),
            cart.country.clone().into(),
            cart.coupon_code.clone().into(),
            cart.created_at.into(),
            cart.updated_at.into(),
        ],
    ))
    .await?;
    let lines: Vec<&CartLine> = cart.lines.iter().collect();
    insert_lines(tx, cart.id, &lines, cart.created_at).await
}

/// The cart with its lines; `lock` takes its row lock first (PostgreSQL), so two changes
/// to one cart run one after the other. Without the lock, one statement reads both.
pub async fn find(tx: &TenantTx, id: CartId, lock: bool) -> Result<Option<Cart>, DbErr> {
    let values = [tx.tenant().as_uuid().into(), id.as_uuid().into()];
    if lock {
        let row = tx
            .query_one_raw(statement(
                &**tx,
                &format!(
                    "SELECT id, customer_id, status, country, coupon_code, created_at, \
                       updated_at FROM carts WHERE tenant_id = $1 AND id = $2{}",
                    for_update(&**tx)
                ),
                values,
            ))
            .await?;
        return with_lines(tx, row).await;
    }
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT c.id, c.customer_id, c.status, c.country, c.coupon_code, c.created_at, \
               c.updated_at, l.id AS line_id, l.variant_id, l.quantity, l.seen_price \
             FROM carts c LEFT JOIN cart_lines l ON l.tenant_id = c.tenant_id AND l.cart_id = c.id \
             WHERE c.tenant_id = $1 AND c.id = $2 ORDER BY l.created_at, l.id",
            values,
        ))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut cart = cart_from(first)?;
    for row in &rows {
        if let Some(line) = col::<Option<uuid::Uuid>>(row, "line_id")? {
            cart.lines
                .push(line_from(row, CartLineId::from_uuid(line))?);
        }
    }
    Ok(Some(cart))
}

/// Closes `id` as `status` at `at` if it is open, which takes its row lock (PostgreSQL),
/// and returns it so, with its lines. `None`: there is no such open cart (no such cart, or
/// one closed already, perhaps by a checkout that held the lock until now).
pub async fn close_open(
    tx: &TenantTx,
    id: CartId,
    status: CartStatus,
    at: DateTime<Utc>,
) -> Result<Option<Cart>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "UPDATE carts SET status = $3, updated_at = $4 \
             WHERE tenant_id = $1 AND id = $2 AND status = $5 \
             RETURNING id, customer_id, status, country, coupon_code, created_at, updated_at",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                status.code().into(),
                at.into(),
                CartStatus::Open.code().into(),
            ],
        ))
        .await?;
    with_lines(tx, row).await
}

/// The customer's open cart, if they have one.
pub async fn open_of(tx: &TenantTx, customer: UserId) -> Result<Option<CartId>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT id FROM carts WHERE tenant_id = $1 AND customer_id = $2 AND status = 'open' \
             ORDER BY updated_at DESC LIMIT 1",
            [tx.tenant().as_uuid().into(), customer.as_uuid().into()],
        ))
        .await?;
    row.map(|row| col(&row, "id").map(CartId::from_uuid))
        .transpose()
}

/// The cart of `row` (its columns as [`find`] reads them), with its lines.
async fn with_lines(tx: &TenantTx, row: Option<QueryResult>) -> Result<Option<Cart>, DbErr> {
    let Some(row) = row else {
        return Ok(None);
    };
    let mut cart = cart_from(&row)?;
    cart.lines = lines(tx, cart.id).await?;
    Ok(Some(cart))
}

async fn lines(tx: &TenantTx, cart: CartId) -> Result<Vec<CartLine>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT id, variant_id, quantity, seen_price FROM cart_lines \
             WHERE tenant_id = $1 AND cart_id = $2 ORDER BY created_at, id",
            [tx.tenant().as_uuid().into(), cart.as_uuid().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| line_from(row, CartLineId::from_uuid(col(row, "id")?)))
        .collect()
}

fn line_from(row: &QueryResult, id: CartLineId) -> Result<CartLine, DbErr> {
    Ok(CartLine {
        id,
        variant: VariantId::from_uuid(col(row, "variant_id")?),
        quantity: col(row, "quantity")?,
        seen_price: col(row, "seen_price")?,
    })
}

/// Writes new lines of `cart`, in one statement.
pub async fn insert_lines(
    tx: &TenantTx,
    cart: CartId,
    lines: &[&CartLine],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(lines.len() * 7);
    for line in lines {
        values.extend([
            tx.tenant().as_uuid().into(),
            line.id.as_uuid().into(),
            cart.as_uuid().into(),
            line.variant.as_uuid().into(),
            line.quantity.into(),
            line.seen_price.into(),
            at.into(),
        ]);
    }
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO cart_lines (tenant_id, id, cart_id, variant_id, quantity, seen_price, \
               created_at) VALUES {}",
            value_rows(1, lines.len(), 7)
        ),
        values,
    ))
    .await
    .map(|_| ())
}

pub async fn update_line(tx: &TenantTx, line: &CartLine) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE cart_lines SET quantity = $3, seen_price = $4 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            line.id.as_uuid().into(),
            line.quantity.into(),
            line.seen_price.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn delete_line(tx: &TenantTx, line: CartLineId) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "DELETE FROM cart_lines WHERE tenant_id = $1 AND id = $2",
        [tx.tenant().as_uuid().into(), line.as_uuid().into()],
    ))
    .await
    .map(|_| ())
}

/// Saves the cart's own fields and marks it touched.
pub async fn update(tx: &TenantTx, cart: &Cart) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE carts SET customer_id = $3, status = $4, country = $5, coupon_code = $6, \
           updated_at = $7 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            cart.id.as_uuid().into(),
            cart.customer.map(|c| c.as_uuid()).into(),
            cart.status.code().into(),
            cart.country.clone().into(),
            cart.coupon_code.clone().into(),
            cart.updated_at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// Removes the lines of carts untouched since `before` and marks the carts expired.
/// Returns how many carts expired.
pub async fn expire_idle(tx: &TenantTx, before: DateTime<Utc>) -> Result<u64, DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id IN \
           (SELECT id FROM carts WHERE tenant_id = $1 AND status = 'open' AND updated_at < $2)",
        [tx.tenant().as_uuid().into(), before.into()],
    ))
    .await?;
    let result = tx
        .execute_raw(statement(
            &**tx,
            "UPDATE carts SET status = 'expired' \
             WHERE tenant_id = $1 AND status = 'open' AND updated_at < $2",
            [tx.tenant().as_uuid().into(), before.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Whether the shop has open carts (that a later sweep may expire).
pub async fn any_open(tx: &TenantTx) -> Result<bool, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT id FROM carts WHERE tenant_id = $1 AND status = 'open' LIMIT 1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    Ok(row.is_some())
}
