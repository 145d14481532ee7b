//! An order's payments (one per attempt), the provider events already handled, refunds and
//! returns.

use super::{col, currency_col, json_col, statement, to_json};
use crate::domain::{OrderId, RefundId, ReturnId, VendorOrderId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_kernel::Money;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use std::collections::HashMap;

use crate::domain::payment::*;

const COLUMNS: &str = "id, order_id, provider, provider_ref, amount, currency, status, \
    failure_code, failure_message, idempotency_key, created_at, updated_at";

fn from_row(row: &QueryResult) -> Result<Payment, DbErr> {
    let status: String = col(row, "status")?;
    Ok(Payment {
        id: PaymentId::from_uuid(col(row, "id")?),
        order: OrderId::from_uuid(col(row, "order_id")?),
        provider: col(row, "provider")?,
        provider_ref: col(row, "provider_ref")?,
        amount: Money::new(col(row, "amount")?, currency_col(row, "currency")?),
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| super::corrupt("payment status", &status))?,
        failure_code: col(row, "failure_code")?,
        failure_message: col(row, "failure_message")?,
        idempotency_key: col(row, "idempotency_key")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub async fn insert(tx: &TenantTx, p: &Payment) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO order_payments ({COLUMNS}, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        [
            p.id.as_uuid().into(),
            p.order.as_uuid().into(),
            p.provider.clone().into(),
            p.provider_ref.clone().into(),
            p.amount.amount.into(),
            p.amount.currency.code().to_owned().into(),
            p.status.code().into(),
            p.failure_code.clone().into(),
            p.failure_message.clone().into(),
            p.idempotency_key.clone().into(),
            p.created_at.into(),
            p.updated_at.into(),
            tx.tenant().as_uuid().into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn update(tx: &TenantTx, p: &Payment) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE order_payments SET provider_ref = $3, status = $4, failure_code = $5, \
           failure_message = $6, updated_at = $7, amount = $8, currency = $9 \
         WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            p.id.as_uuid().into(),
            p.provider_ref.clone().into(),
            p.status.code().into(),
            p.failure_code.clone().into(),
            p.failure_message.clone().into(),
            p.updated_at.into(),
            p.amount.amount.into(),
            p.amount.currency.code().to_owned().into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn of_order(tx: &TenantTx, order: OrderId) -> Result<Vec<Payment>, DbErr> {
    Ok(super::only(of_orders(tx, &[order]).await?, order))
}

/// The payment attempts of `orders`, each order's in id order.
pub async fn of_orders(
    tx: &TenantTx,
    orders: &[OrderId],
) -> Result<HashMap<OrderId, Vec<Payment>>, DbErr> {
    super::of_orders(
        tx,
        "order_payments",
        COLUMNS,
        "order_id, id",
        orders,
        from_row,
    )
    .await
}

pub async fn by_provider_ref(
    tx: &TenantTx,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<Payment>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {COLUMNS} FROM order_payments \
             WHERE tenant_id = $1 AND provider = $2 AND provider_ref = $3"
        ),
        [
            tx.tenant().as_uuid().into(),
            provider.to_owned().into(),
            provider_ref.to_owned().into(),
        ],
    ))
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Records a provider event as handled; false when it was handled before.
pub async fn first_delivery(
    tx: &TenantTx,
    provider: &str,
    event_id: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = tx
        .execute_raw(statement(
            &**tx,
            "INSERT INTO order_payment_events (tenant_id, provider, event_id, kind, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [
                tx.tenant().as_uuid().into(),
                provider.to_owned().into(),
                event_id.to_owned().into(),
                kind.to_owned().into(),
                at.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

const REFUND_COLUMNS: &str = "id, order_id, payment_id, vendor_order_id, kind, amount, reason, \
    restock, lines, shares, status, provider_ref, idempotency_key, request_hash, actor, created_at";

fn refund_from(row: &QueryResult, currency: mercato_kernel::Currency) -> Result<Refund, DbErr> {
    let status: String = col(row, "status")?;
    Ok(Refund {
        id: RefundId::from_uuid(col(row, "id")?),
        order_id: OrderId::from_uuid(col(row, "order_id")?),
        payment: PaymentId::from_uuid(col(row, "payment_id")?),
        vendor_order_id: col::<Option<uuid::Uuid>>(row, "vendor_order_id")?
            .map(VendorOrderId::from_uuid),
        stray_payment: col::<String>(row, "kind")? == "stray_payment",
        amount: Money::new(col(row, "amount")?, currency),
        reason: col(row, "reason")?,
        restock: col(row, "restock")?,
        lines: json_col(row, "lines")?,
        shares: json_col(row, "shares")?,
        status: match status.as_str() {
            "pending" => RefundStatus::Pending,
            "succeeded" => RefundStatus::Succeeded,
            _ => RefundStatus::Failed,
        },
        provider_ref: col(row, "provider_ref")?,
        idempotency_key: col(row, "idempotency_key")?,
        request_hash: col(row, "request_hash")?,
        actor: col(row, "actor")?,
        created_at: col(row, "created_at")?,
    })
}

pub async fn insert_refund(tx: &TenantTx, r: &Refund) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO refunds ({REFUND_COLUMNS}, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ),
        [
            r.id.as_uuid().into(),
            r.order_id.as_uuid().into(),
            r.payment.as_uuid().into(),
            r.vendor_order_id.map(|v| v.as_uuid()).into(),
            if r.stray_payment {
                "stray_payment"
            } else {
                "order"
            }
            .into(),
            r.amount.amount.into(),
            r.reason.clone().into(),
            r.restock.into(),
            to_json(&r.lines)?.into(),
            to_json(&r.shares)?.into(),
            r.status.code().into(),
            r.provider_ref.clone().into(),
            r.idempotency_key.clone().into(),
            r.request_hash.clone().into(),
            r.actor.clone().into(),
            r.created_at.into(),
            tx.tenant().as_uuid().into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn refunds_of(
    tx: &TenantTx,
    order: OrderId,
    currency: mercato_kernel::Currency,
) -> Result<Vec<Refund>, DbErr> {
    Ok(super::only(
        refunds_of_orders(tx, &[(order, currency)]).await?,
        order,
    ))
}

/// The refunds of `orders` (each with its currency), each order's in id order.
pub async fn refunds_of_orders(
    tx: &TenantTx,
    orders: &[(OrderId, mercato_kernel::Currency)],
) -> Result<HashMap<OrderId, Vec<Refund>>, DbErr> {
    let currencies: HashMap<OrderId, mercato_kernel::Currency> = orders.iter().copied().collect();
    let ids: Vec<OrderId> = orders.iter().map(|(id, _)| *id).collect();
    super::of_orders(tx, "refunds", REFUND_COLUMNS, "order_id, id", &ids, |row| {
        let order = OrderId::from_uuid(col(row, "order_id")?);
        let currency = currencies
            .get(&order)
            .copied()
            .ok_or_else(|| DbErr::Custom(format!("a refund of {order}, not asked for")))?;
        refund_from(row, currency)
    })
    .await
}

const RETURN_COLUMNS: &str = "id, order_id, vendor_order_id, lines, reason, status, decided_by, \
    decision_note, refund_id, created_at, updated_at";

fn return_from(row: &QueryResult) -> Result<Return, DbErr> {
    let status: String = col(row, "status")?;
    Ok(Return {
        id: ReturnId::from_uuid(col(row, "id")?),
        order_id: OrderId::from_uuid(col(row, "order_id")?),
        vendor_order_id: VendorOrderId::from_uuid(col(row, "vendor_order_id")?),
        lines: json_col(row, "lines")?,
        reason: col(row, "reason")?,
        status: ReturnStatus::parse(&status)
            .ok_or_else(|| super::corrupt("return status", &status))?,
        decided_by: col(row, "decided_by")?,
        decision_note: col(row, "decision_note")?,
        refund_id: col::<Option<uuid::Uuid>>(row, "refund_id")?.map(RefundId::from_uuid),
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub async fn insert_return(tx: &TenantTx, r: &Return) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO returns ({RETURN_COLUMNS}, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        [
            r.id.as_uuid().into(),
            r.order_id.as_uuid().into(),
            r.vendor_order_id.as_uuid().into(),
            to_json(&r.lines)?.into(),
            r.reason.clone().into(),
            r.status.code().into(),
            r.decided_by.clone().into(),
            r.decision_note.clone().into(),
            r.refund_id.map(|id| id.as_uuid()).into(),
            r.created_at.into(),
            r.updated_at.into(),
            tx.tenant().as_uuid().into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn update_return(tx: &TenantTx, r: &Return) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE returns SET status = $3, decided_by = $4, decision_note = $5, refund_id = $6, \
           updated_at = $7 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            r.id.as_uuid().into(),
            r.status.code().into(),
            r.decided_by.clone().into(),
            r.decision_note.clone().into(),
            r.refund_id.map(|id| id.as_uuid()).into(),
            r.updated_at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn returns_of(tx: &TenantTx, order: OrderId) -> Result<Vec<Return>, DbErr> {
    Ok(super::only(returns_of_orders(tx, &[order]).await?, order))
}

/// The returns of `orders`, each order's in id order.
pub async fn returns_of_orders(
    tx: &TenantTx,
    orders: &[OrderId],
) -> Result<HashMap<OrderId, Vec<Return>>, DbErr> {
    super::of_orders(
        tx,
        "returns",
        RETURN_COLUMNS,
        "order_id, id",
        orders,
        return_from,
    )
    .await
}

pub async fn find_return(tx: &TenantTx, id: ReturnId) -> Result<Option<Return>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {RETURN_COLUMNS} FROM returns WHERE tenant_id = $1 AND id = $2"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .as_ref()
    .map(return_from)
    .transpose()
}

pub async fn find_refund(
    tx: &TenantTx,
    id: RefundId,
    currency: mercato_kernel::Currency,
) -> Result<Option<Refund>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE tenant_id = $1 AND id = $2"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .as_ref()
    .map(|row| refund_from(row, currency))
    .transpose()
}

pub async fn refund_by_key(
    tx: &TenantTx,
    order: OrderId,
    key: &str,
    currency: mercato_kernel::Currency,
) -> Result<Option<Refund>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {REFUND_COLUMNS} FROM refunds \
             WHERE tenant_id = $1 AND order_id = $2 AND idempotency_key = $3"
        ),
        [
            tx.tenant().as_uuid().into(),
            order.as_uuid().into(),
            key.to_owned().into(),
        ],
    ))
    .await?
    .as_ref()
    .map(|row| refund_from(row, currency))
    .transpose()
}

pub async fn set_refund_status(
    tx: &TenantTx,
    id: RefundId,
    status: RefundStatus,
    provider_ref: Option<&str>,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE refunds SET status = $3, provider_ref = $4 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            status.code().into(),
            provider_ref.map(str::to_owned).into(),
        ],
    ))
    .await
    .map(|_| ())
}
