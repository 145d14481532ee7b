//! The only place that queries the orders database. Every function takes a `TenantTx`: one
//! shop's rows are all it can see.

pub mod carts;
pub mod coupons;
pub mod mirror;
pub mod orders;
pub mod payments;
pub mod retention;
pub mod settings;

use crate::domain::OrderId;
use mercato_db::{Migration, TenantTx};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable, Value};
use std::collections::HashMap;

pub use mercato_db::sql::{for_update, placeholders, statement, value_rows};

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "carts, coupons, taxes, orders, vendor orders, payments, refunds, returns, mirrors",
        include_str!("../../migrations/0001_orders.sql"),
        &[
            "order_settings",
            "tax_rates",
            "catalog_variants",
            "vendors",
            "commission_rules",
            "stock",
            "carts",
            "cart_lines",
            "coupons",
            "orders",
            "coupon_redemptions",
            "vendor_orders",
            "order_lines",
            "order_transitions",
            "checkout_keys",
            "order_payments",
            "order_payment_events",
            "refunds",
            "returns",
        ],
    ),
    Migration::portable(
        2,
        "indexes for an order's vendor orders, payments, refunds and returns in id order",
        include_str!("../../migrations/0002_order_indexes.sql"),
        &[],
    ),
    Migration::portable(
        3,
        "checkout keys per caller",
        include_str!("../../migrations/0003_checkout_keys_per_caller.sql"),
        &["checkout_caller_keys"],
    ),
    Migration::portable(
        4,
        "the payment providers a shop accepts",
        include_str!("../../migrations/0004_payment_providers.sql"),
        &[],
    ),
    Migration::portable(
        5,
        "vendors' holidays in the vendor mirror",
        include_str!("../../migrations/0005_vendor_holidays.sql"),
        &[],
    ),
    Migration::portable(
        6,
        "checkout keys and provider events by age, for the retention sweep",
        include_str!("../../migrations/0006_retention_indexes.sql"),
        &[],
    ),
    Migration::portable(
        7,
        "unpaid orders by deadline, for the expiry sweep",
        include_str!("../../migrations/0007_expiry_sweep_index.sql"),
        &[],
    ),
    Migration::portable(
        8,
        "commission rules as a mirror: a version and a tombstone",
        include_str!("../../migrations/0008_commission_rule_versions.sql"),
        &[],
    ),
    Migration::portable(
        9,
        "vendor orders keep the shop's and the vendor's parts of their discount",
        include_str!("../../migrations/0009_discount_funding_split.sql"),
        &[],
    ),
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
];

/// A stored value the code cannot read: the schema's checks should make this impossible.
pub(crate) fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

/// One column of a raw row.
pub(crate) fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, DbErr> {
    row.try_get("", name)
}

/// A JSON column (stored as text on both backends).
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &QueryResult,
    name: &str,
) -> Result<T, DbErr> {
    let text: String = col(row, name)?;
    serde_json::from_str(&text).map_err(|_| corrupt(name, &text))
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Json(e.to_string()))
}

pub(crate) fn currency_col(
    row: &QueryResult,
    name: &str,
) -> Result<mercato_kernel::Currency, DbErr> {
    let text: String = col(row, name)?;
    mercato_kernel::Currency::parse(&text).map_err(|_| corrupt(name, &text))
}

/// The rows of `table` that belong to `orders`, grouped by order, each group in `order_by`
/// order: one statement for a whole page of orders. `columns` must name `order_id`.
pub(crate) async fn of_orders<T>(
    tx: &TenantTx,
    table: &str,
    columns: &str,
    order_by: &str,
    orders: &[OrderId],
    from: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> Result<HashMap<OrderId, Vec<T>>, DbErr> {
    let mut grouped: HashMap<OrderId, Vec<T>> = HashMap::with_capacity(orders.len());
    if orders.is_empty() {
        return Ok(grouped);
    }
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {columns} FROM {table} WHERE tenant_id = $1 AND order_id IN ({}) \
                 ORDER BY {order_by}",
                placeholders(2, orders.len())
            ),
            tenant_and(tx, orders),
        ))
        .await?;
    for row in &rows {
        let order = OrderId::from_uuid(col(row, "order_id")?);
        grouped.entry(order).or_default().push(from(row)?);
    }
    Ok(grouped)
}

/// The transaction's tenant, then `orders`: the values of `tenant_id = $1 AND … IN ($2, …)`.
pub(crate) fn tenant_and(tx: &TenantTx, orders: &[OrderId]) -> Vec<Value> {
    std::iter::once(tx.tenant().as_uuid().into())
        .chain(orders.iter().map(|o| Value::from(o.as_uuid())))
        .collect()
}

/// `order`'s group of what [`of_orders`] read for it alone.
pub(crate) fn only<T>(mut grouped: HashMap<OrderId, Vec<T>>, order: OrderId) -> Vec<T> {
    grouped.remove(&order).unwrap_or_default()
}
