//! The guests' keys to their customer documents (ADR 0044): per order, the hash of its
//! guest token as `order.paid` carried it (`mercato_orders_api::token`), never the token. A
//! guest presenting the token reads the order's invoices and credit notes.

use mercato_db::TenantTx;
use mercato_db::sql::statement;
use mercato_orders_api::OrderId;
use sea_orm::{ConnectionTrait, DbErr, Value};

/// Keeps each order's token hash; an order's first one stays (a replay writes nothing).
pub async fn save(tx: &TenantTx, hashes: &[(OrderId, &str)]) -> Result<(), DbErr> {
    if hashes.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    let mut rows = Vec::with_capacity(hashes.len());
    for (order, hash) in hashes {
        values.push(order.as_uuid().into());
        values.push((*hash).into());
        rows.push(format!("($1, ${}, ${})", values.len() - 1, values.len()));
    }
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO document_order_tokens (tenant_id, order_id, token_hash) VALUES {} \
             ON CONFLICT (tenant_id, order_id) DO NOTHING",
            rows.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// Whether `token` is the guest token of the shop's `order` (compared in constant time);
/// false when the order's hash was never carried to accounting.
pub async fn opens(tx: &TenantTx, order: OrderId, token: &str) -> Result<bool, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT token_hash FROM document_order_tokens WHERE tenant_id = $1 AND order_id = $2",
            [tx.tenant().as_uuid().into(), order.as_uuid().into()],
        ))
        .await?;
    let stored: Option<String> = row.map(|r| r.try_get("", "token_hash")).transpose()?;
    Ok(stored.is_some_and(|s| mercato_orders_api::token::token_matches(&s, token)))
}
