//! Orders, their vendor orders and lines, the transitions between statuses, and checkout's
//! idempotency keys.

use super::{
    col, currency_col, for_update, json_col, placeholders, statement, to_json, value_rows,
};
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::{CartId, CouponId, OrderId, OrderLineId, VendorOrderId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;

use mercato_inventory_api::ReservationId;
use mercato_tenant_context::{ProductId, UserId, VariantId, VendorId};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use std::collections::HashMap;

use crate::domain::order::*;

const ORDER_COLUMNS: &str = "id, cart_id, customer_id, email, status, currency, subtotal, \
    discount, shipping, tax, total, refunded, prices_include_tax, shipping_address, \
    tax_breakdown, coupon_id, coupon_code, reservation_id, token_hash, payment_failure, \
    paid_by, expires_at, placed_at, paid_at, updated_at";

fn order_from(row: &QueryResult) -> Result<Order, DbErr> {
    let status: String = col(row, "status")?;
    let failure: Option<String> = col(row, "payment_failure")?;
    Ok(Order {
        id: OrderId::from_uuid(col(row, "id")?),
        cart: CartId::from_uuid(col(row, "cart_id")?),
        customer: col::<Option<uuid::Uuid>>(row, "customer_id")?.map(UserId::from_uuid),
        email: col(row, "email")?,
        status: OrderStatus::parse(&status).ok_or_else(|| super::corrupt("status", &status))?,
        currency: currency_col(row, "currency")?,
        subtotal: col(row, "subtotal")?,
        discount: col(row, "discount")?,
        shipping: col(row, "shipping")?,
        tax: col(row, "tax")?,
        total: col(row, "total")?,
        refunded: col(row, "refunded")?,
        prices_include_tax: col(row, "prices_include_tax")?,
        shipping_address: json_col(row, "shipping_address")?,
        tax_breakdown: json_col(row, "tax_breakdown")?,
        coupon: col::<Option<uuid::Uuid>>(row, "coupon_id")?.map(CouponId::from_uuid),
        coupon_code: col(row, "coupon_code")?,
        reservation: col::<Option<String>>(row, "reservation_id")?
            .map(|r| r.parse().map_err(|_| super::corrupt("reservation", &r)))
            .transpose()?,
        token_hash: col(row, "token_hash")?,
        payment_failure: failure
            .map(|text| serde_json::from_str(&text).map_err(|_| super::corrupt("failure", &text)))
            .transpose()?,
        paid_by: col::<Option<uuid::Uuid>>(row, "paid_by")?
            .map(crate::domain::payment::PaymentId::from_uuid),
        expires_at: col(row, "expires_at")?,
        placed_at: col(row, "placed_at")?,
        paid_at: col(row, "paid_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

const VENDOR_ORDER_COLUMNS: &str = "id, order_id, vendor_id, status, subtotal, discount, \
    discount_funded_by, discount_by_shop, discount_by_vendor, shipping, tax, total, commission, \
    earnings, refunded, carrier, tracking_number, shipped_at, delivered_at, created_at, updated_at";

fn vendor_order_from(row: &QueryResult) -> Result<VendorOrder, DbErr> {
    let status: String = col(row, "status")?;
    Ok(VendorOrder {
        id: VendorOrderId::from_uuid(col(row, "id")?),
        order: OrderId::from_uuid(col(row, "order_id")?),
        vendor: VendorId::from_uuid(col(row, "vendor_id")?),
        status: VendorOrderStatus::parse(&status)
            .ok_or_else(|| super::corrupt("status", &status))?,
        subtotal: col(row, "subtotal")?,
        discount: col(row, "discount")?,
        discount_funded_by: col(row, "discount_funded_by")?,
        discount_by_shop: col(row, "discount_by_shop")?,
        discount_by_vendor: col(row, "discount_by_vendor")?,
        shipping: col(row, "shipping")?,
        tax: col(row, "tax")?,
        total: col(row, "total")?,
        commission: col(row, "commission")?,
        earnings: col(row, "earnings")?,
        refunded: col(row, "refunded")?,
        carrier: col(row, "carrier")?,
        tracking_number: col(row, "tracking_number")?,
        shipped_at: col(row, "shipped_at")?,
        delivered_at: col(row, "delivered_at")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

const LINE_COLUMNS: &str = "id, order_id, vendor_order_id, position, variant_id, product_id, \
    title, sku, unit_price, quantity, subtotal, discount, tax, tax_rate, total, commission, \
    commission_rule, refunded_quantity, refunded";

fn line_from(row: &QueryResult) -> Result<OrderLine, DbErr> {
    Ok(OrderLine {
        id: OrderLineId::from_uuid(col(row, "id")?),
        order: OrderId::from_uuid(col(row, "order_id")?),
        vendor_order: VendorOrderId::from_uuid(col(row, "vendor_order_id")?),
        position: col(row, "position")?,
        variant: VariantId::from_uuid(col(row, "variant_id")?),
        product: ProductId::from_uuid(col(row, "product_id")?),
        title: col(row, "title")?,
        sku: col(row, "sku")?,
        unit_price: col(row, "unit_price")?,
        quantity: col(row, "quantity")?,
        subtotal: col(row, "subtotal")?,
        discount: col(row, "discount")?,
        tax: col(row, "tax")?,
        tax_rate: col(row, "tax_rate")?,
        total: col(row, "total")?,
        commission: col(row, "commission")?,
        commission_rule: col(row, "commission_rule")?,
        refunded_quantity: col(row, "refunded_quantity")?,
        refunded: col(row, "refunded")?,
    })
}

pub async fn insert(tx: &TenantTx, full: &FullOrder) -> Result<(), DbErr> {
    let o = &full.order;
    let t = tx.tenant().as_uuid();
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO orders ({ORDER_COLUMNS}, tenant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
             $26)"
        ),
        [
            o.id.as_uuid().into(),
            o.cart.as_uuid().into(),
            o.customer.map(|c| c.as_uuid()).into(),
            o.email.clone().into(),
            o.status.code().into(),
            o.currency.code().to_owned().into(),
            o.subtotal.into(),
            o.discount.into(),
            o.shipping.into(),
            o.tax.into(),
            o.total.into(),
            o.refunded.into(),
            o.prices_include_tax.into(),
            to_json(&o.shipping_address)?.into(),
            to_json(&o.tax_breakdown)?.into(),
            o.coupon.map(|c| c.as_uuid()).into(),
            o.coupon_code.clone().into(),
            o.reservation.map(|r| r.to_string()).into(),
            o.token_hash.clone().into(),
            o.payment_failure.as_ref().map(to_json).transpose()?.into(),
            o.paid_by.map(|p| p.as_uuid()).into(),
            o.expires_at.into(),
            o.placed_at.into(),
            o.paid_at.into(),
            o.updated_at.into(),
            t.into(),
        ],
    ))
    .await?;
    // Every vendor order in one statement, then every line in one.
    if !full.vendor_orders.is_empty() {
        let mut values = Vec::with_capacity(full.vendor_orders.len() * 22);
        for v in &full.vendor_orders {
            values.extend([
                v.id.as_uuid().into(),
                v.order.as_uuid().into(),
                v.vendor.as_uuid().into(),
                v.status.code().into(),
                v.subtotal.into(),
                v.discount.into(),
                v.discount_funded_by.clone().into(),
                v.discount_by_shop.into(),
                v.discount_by_vendor.into(),
                v.shipping.into(),
                v.tax.into(),
                v.total.into(),
                v.commission.into(),
                v.earnings.into(),
                v.refunded.into(),
                v.carrier.clone().into(),
                v.tracking_number.clone().into(),
                v.shipped_at.into(),
                v.delivered_at.into(),
                v.created_at.into(),
                v.updated_at.into(),
                t.into(),
            ]);
        }
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO vendor_orders ({VENDOR_ORDER_COLUMNS}, tenant_id) VALUES {}",
                value_rows(1, full.vendor_orders.len(), 22)
            ),
            values,
        ))
        .await?;
    }
    if !full.lines.is_empty() {
        let mut values = Vec::with_capacity(full.lines.len() * 20);
        for l in &full.lines {
            values.extend([
                l.id.as_uuid().into(),
                l.order.as_uuid().into(),
                l.vendor_order.as_uuid().into(),
                l.position.into(),
                l.variant.as_uuid().into(),
                l.product.as_uuid().into(),
                l.title.clone().into(),
                l.sku.clone().into(),
                l.unit_price.into(),
                l.quantity.into(),
                l.subtotal.into(),
                l.discount.into(),
                l.tax.into(),
                l.tax_rate.clone().into(),
                l.total.into(),
                l.commission.into(),
                l.commission_rule.clone().into(),
                l.refunded_quantity.into(),
                l.refunded.into(),
                t.into(),
            ]);
        }
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO order_lines ({LINE_COLUMNS}, tenant_id) VALUES {}",
                value_rows(1, full.lines.len(), 20)
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Up to `limit` unpaid orders whose deadline is at or before `now`, earliest first: what
/// the shop's expiry sweep expires (a range on `orders_unpaid_deadline`).
pub async fn due_to_expire(
    tx: &TenantTx,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<OrderId>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT id FROM orders WHERE tenant_id = $1 AND status = $2 AND expires_at <= $3 \
                 ORDER BY expires_at, id LIMIT {limit}"
            ),
            [
                tx.tenant().as_uuid().into(),
                OrderStatus::PendingPayment.code().into(),
                now.into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| col::<uuid::Uuid>(row, "id").map(OrderId::from_uuid))
        .collect()
}

/// The earliest deadline of the shop's unpaid orders, when it has any: when its expiry
/// sweep must run next.
pub async fn next_deadline(tx: &TenantTx) -> Result<Option<DateTime<Utc>>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT expires_at FROM orders WHERE tenant_id = $1 AND status = $2 \
             ORDER BY expires_at LIMIT 1",
            [
                tx.tenant().as_uuid().into(),
                OrderStatus::PendingPayment.code().into(),
            ],
        ))
        .await?;
    row.map(|row| col(&row, "expires_at")).transpose()
}

/// Takes the order's lock (see [`find`]) without reading it. False: there is no such order.
pub async fn lock(tx: &TenantTx, id: OrderId) -> Result<bool, DbErr> {
    Ok(tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT id FROM orders WHERE tenant_id = $1 AND id = $2{}",
                for_update(&**tx)
            ),
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?
        .is_some())
}

/// The order, locked (PostgreSQL) when `lock`: every change to an order or its vendor
/// orders locks the order row first, so they run one after the other.
pub async fn find(tx: &TenantTx, id: OrderId, lock: bool) -> Result<Option<FullOrder>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 AND id = $2{}",
                if lock { for_update(&**tx) } else { "" }
            ),
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let order = order_from(&row)?;
    Ok(with_parts(tx, vec![order]).await?.pop())
}

/// The orders of `ids` that exist, unlocked, with their vendor orders and lines: three
/// statements for any number of orders.
pub async fn find_many(
    tx: &TenantTx,
    ids: &[OrderId],
) -> Result<HashMap<OrderId, FullOrder>, DbErr> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 AND id IN ({})",
                placeholders(2, ids.len())
            ),
            super::tenant_and(tx, &ids),
        ))
        .await?;
    let orders = rows.iter().map(order_from).collect::<Result<Vec<_>, _>>()?;
    Ok(with_parts(tx, orders)
        .await?
        .into_iter()
        .map(|full| (full.order.id, full))
        .collect())
}

/// `orders` with their vendor orders and lines, in the order given: two statements for any
/// number of orders.
pub async fn with_parts(tx: &TenantTx, orders: Vec<Order>) -> Result<Vec<FullOrder>, DbErr> {
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let mut vendor_orders = super::of_orders(
        tx,
        "vendor_orders",
        VENDOR_ORDER_COLUMNS,
        "order_id, id",
        &ids,
        vendor_order_from,
    )
    .await?;
    let mut lines = super::of_orders(
        tx,
        "order_lines",
        LINE_COLUMNS,
        "order_id, position",
        &ids,
        line_from,
    )
    .await?;
    Ok(orders
        .into_iter()
        .map(|order| FullOrder {
            vendor_orders: vendor_orders.remove(&order.id).unwrap_or_default(),
            lines: lines.remove(&order.id).unwrap_or_default(),
            order,
            history: None,
        })
        .collect())
}

/// Locks the order's row and tells whether it is still as `seen` left it: the same status
/// and last change. Every write to an order sets its `updated_at`.
pub async fn unchanged(tx: &TenantTx, seen: &Order) -> Result<bool, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT status, updated_at FROM orders WHERE tenant_id = $1 AND id = $2{}",
                for_update(&**tx)
            ),
            [tx.tenant().as_uuid().into(), seen.id.as_uuid().into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let status: String = col(&row, "status")?;
    let updated_at: DateTime<Utc> = col(&row, "updated_at")?;
    Ok(status == seen.status.code() && updated_at == seen.updated_at)
}

/// Orders newest first: all of the shop's, or one customer's.
pub async fn list(
    tx: &TenantTx,
    customer: Option<UserId>,
    before: Option<OrderId>,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 \
                 AND ($2 IS NULL OR customer_id = $2) AND ($3 IS NULL OR id < $3) \
                 ORDER BY id DESC LIMIT $4"
            ),
            [
                tx.tenant().as_uuid().into(),
                customer.map(|c| c.as_uuid()).into(),
                before.map(|b| b.as_uuid()).into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    rows.iter().map(order_from).collect()
}

/// Vendor orders newest first: all of the shop's or of some vendors.
pub async fn list_vendor_orders(
    tx: &TenantTx,
    vendors: Option<&[VendorId]>,
    before: Option<VendorOrderId>,
    limit: u64,
) -> Result<Vec<VendorOrder>, DbErr> {
    let mut values = vec![
        tx.tenant().as_uuid().into(),
        before.map(|b| b.as_uuid()).into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    ];
    let vendor_filter = match vendors {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => {
            values.extend(ids.iter().map(|v| v.as_uuid().into()));
            format!(" AND vendor_id IN ({})", placeholders(4, ids.len()))
        }
        None => String::new(),
    };
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {VENDOR_ORDER_COLUMNS} FROM vendor_orders WHERE tenant_id = $1 \
                 AND ($2 IS NULL OR id < $2){vendor_filter} ORDER BY id DESC LIMIT $3"
            ),
            values,
        ))
        .await?;
    rows.iter().map(vendor_order_from).collect()
}

pub async fn update_order(tx: &TenantTx, o: &Order) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE orders SET status = $3, refunded = $4, payment_failure = $5, paid_at = $6, \
           updated_at = $7, paid_by = $8 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            o.id.as_uuid().into(),
            o.status.code().into(),
            o.refunded.into(),
            o.payment_failure.as_ref().map(to_json).transpose()?.into(),
            o.paid_at.into(),
            o.updated_at.into(),
            o.paid_by.map(|p| p.as_uuid()).into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// Ties the order to another stock hold (a payment accepted after its first hold ran out).
pub async fn set_reservation(
    tx: &TenantTx,
    id: OrderId,
    reservation: ReservationId,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE orders SET reservation_id = $3 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            reservation.to_string().into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn update_vendor_order(tx: &TenantTx, v: &VendorOrder) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE vendor_orders SET status = $3, refunded = $4, carrier = $5, tracking_number = $6, \
           shipped_at = $7, delivered_at = $8, updated_at = $9 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            v.id.as_uuid().into(),
            v.status.code().into(),
            v.refunded.into(),
            v.carrier.clone().into(),
            v.tracking_number.clone().into(),
            v.shipped_at.into(),
            v.delivered_at.into(),
            v.updated_at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// Writes the status (and when it was shipped or delivered) of several vendor orders of
/// one order that moved together, in one statement.
pub async fn update_vendor_order_statuses(
    tx: &TenantTx,
    moved: &[&VendorOrder],
) -> Result<(), DbErr> {
    if moved.is_empty() {
        return Ok(());
    }
    let mut values = vec![tx.tenant().as_uuid().into()];
    for v in moved {
        values.extend([
            v.id.as_uuid().into(),
            v.status.code().into(),
            v.shipped_at.into(),
            v.delivered_at.into(),
            v.updated_at.into(),
        ]);
    }
    // One CASE per column, keyed by id: `WHEN $id THEN $value`.
    let case = |offset: usize| {
        let arms: String = (0..moved.len())
            .map(|k| format!("WHEN ${} THEN ${} ", 2 + k * 5, 2 + k * 5 + offset))
            .collect();
        format!("CASE id {arms}END")
    };
    let ids: Vec<String> = (0..moved.len())
        .map(|k| format!("${}", 2 + k * 5))
        .collect();
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "UPDATE vendor_orders SET status = {}, shipped_at = {}, delivered_at = {}, \
               updated_at = {} WHERE tenant_id = $1 AND id IN ({})",
            case(1),
            case(2),
            case(3),
            case(4),
            ids.join(", ")
        ),
        values,
    ))
    .await
    .map(|_| ())
}

pub async fn update_line_refund(tx: &TenantTx, l: &OrderLine) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE order_lines SET refunded_quantity = $3, refunded = $4 \
         WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            l.id.as_uuid().into(),
            l.refunded_quantity.into(),
            l.refunded.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn record_transition(tx: &TenantTx, order: OrderId, t: &Transition) -> Result<(), DbErr> {
    record_transitions(tx, order, std::slice::from_ref(t)).await
}

/// Records several moves of one order in one statement, in the order given.
pub async fn record_transitions(
    tx: &TenantTx,
    order: OrderId,
    moves: &[Transition],
) -> Result<(), DbErr> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(moves.len() * 9);
    for t in moves {
        values.extend([
            tx.tenant().as_uuid().into(),
            // Time-ordered ids: the history reads back in the order recorded.
            uuid::Uuid::now_v7().into(),
            order.as_uuid().into(),
            t.vendor_order_id.map(|v| v.as_uuid()).into(),
            t.from.clone().into(),
            t.to.clone().into(),
            t.actor.clone().into(),
            t.reason.clone().into(),
            t.at.into(),
        ]);
    }
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO order_transitions (tenant_id, id, order_id, vendor_order_id, from_status, \
               to_status, actor, reason, at) VALUES {}",
            value_rows(1, moves.len(), 9)
        ),
        values,
    ))
    .await
    .map(|_| ())
}

pub async fn transitions(tx: &TenantTx, order: OrderId) -> Result<Vec<Transition>, DbErr> {
    Ok(super::only(transitions_of(tx, &[order]).await?, order))
}

/// The histories of `orders`, each oldest first.
pub async fn transitions_of(
    tx: &TenantTx,
    orders: &[OrderId],
) -> Result<HashMap<OrderId, Vec<Transition>>, DbErr> {
    super::of_orders(
        tx,
        "order_transitions",
        "order_id, vendor_order_id, from_status, to_status, actor, reason, at",
        "order_id, id",
        orders,
        |row| {
            Ok(Transition {
                vendor_order_id: col::<Option<uuid::Uuid>>(row, "vendor_order_id")?
                    .map(VendorOrderId::from_uuid),
                from: col(row, "from_status")?,
                to: col(row, "to_status")?,
                actor: col(row, "actor")?,
                reason: col(row, "reason")?,
                at: col(row, "at")?,
            })
        },
    )
    .await
}

/// The order `caller`'s checkout key made, and a hash of the request it came with.
pub async fn checkout_key(
    tx: &TenantTx,
    caller: &str,
    key: &str,
) -> Result<Option<(String, OrderId)>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT request_hash, order_id FROM checkout_caller_keys \
             WHERE tenant_id = $1 AND caller = $2 AND key = $3",
            [
                tx.tenant().as_uuid().into(),
                caller.to_owned().into(),
                key.to_owned().into(),
            ],
        ))
        .await?;
    row.map(|row| {
        Ok((
            col(&row, "request_hash")?,
            OrderId::from_uuid(col(&row, "order_id")?),
        ))
    })
    .transpose()
}

pub async fn save_checkout_key(
    tx: &TenantTx,
    caller: &str,
    key: &str,
    request_hash: &str,
    order: OrderId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO checkout_caller_keys (tenant_id, caller, key, request_hash, order_id, \
           created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            tx.tenant().as_uuid().into(),
            caller.to_owned().into(),
            key.to_owned().into(),
            request_hash.to_owned().into(),
            order.as_uuid().into(),
            at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// The order a vendor order belongs to.
pub async fn order_of_vendor_order(
    tx: &TenantTx,
    id: VendorOrderId,
) -> Result<Option<OrderId>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT order_id FROM vendor_orders WHERE tenant_id = $1 AND id = $2",
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    row.map(|row| col(&row, "order_id").map(OrderId::from_uuid))
        .transpose()
}
