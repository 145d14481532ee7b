//! The payment providers' balance transactions as imported (ADR 0045), and the clearing
//! account's movements per entry, for the reconciliation.

use super::col;
use crate::domain::EntryId;
use crate::domain::accounts::Account;
use crate::domain::reconciliation::{LedgerMove, ProviderMove};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_kernel::Currency;
use mercato_orders_api::OrderId;
use mercato_orders_api::events::ProviderBalanceTransaction;
use sea_orm::{ConnectionTrait, DbErr, Value};
use uuid::Uuid;

/// Keeps `transactions` of `provider`; one kept before stays as it was.
pub async fn save(
    tx: &TenantTx,
    provider: &str,
    transactions: &[ProviderBalanceTransaction],
) -> Result<(), DbErr> {
    const WIDTH: usize = 10;
    let now = crate::now();
    for chunk in transactions.chunks(500) {
        let mut values: Vec<Value> =
            vec![tx.tenant().as_uuid().into(), provider.into(), now.into()];
        for t in chunk {
            let created = DateTime::<Utc>::from_timestamp(t.created, 0).unwrap_or(now);
            values.push(t.id.clone().into());
            values.push(t.kind.clone().into());
            values.push(t.source.clone().into());
            values.push(t.reference.clone().into());
            values.push(t.amount.currency.code().into());
            values.push(t.amount.amount.into());
            values.push(t.fee.into());
            values.push(t.net.into());
            values.push(created.into());
            values.push(now.into());
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, $2, {})", placeholders(4 + WIDTH * i, WIDTH)))
            .collect();
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO provider_balance_transactions (tenant_id, provider, id, kind, \
                 source, reference, currency, amount, fee, net, created_at, imported_at) \
                 VALUES {} ON CONFLICT (tenant_id, provider, id) DO NOTHING",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// The providers' balance transactions of `currency` made in `[start, end)`.
pub async fn provider_moves(
    tx: &TenantTx,
    currency: Currency,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<ProviderMove>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        "SELECT id, kind, reference, amount, fee FROM provider_balance_transactions \
         WHERE tenant_id = $1 AND currency = $2 AND created_at >= $3 AND created_at < $4 \
         ORDER BY created_at, id",
        [
            tx.tenant().as_uuid().into(),
            currency.code().into(),
            start.into(),
            end.into(),
        ],
    ))
    .await?
    .iter()
    .map(|row| {
        Ok(ProviderMove {
            id: col(row, "id")?,
            kind: col(row, "kind")?,
            reference: col(row, "reference")?,
            amount: col(row, "amount")?,
            fee: col(row, "fee")?,
        })
    })
    .collect()
}

/// Each posted entry of `currency` that occurred in `[start, end)` and moved the clearing
/// account, with its movement (debits less credits).
pub async fn ledger_moves(
    tx: &TenantTx,
    currency: Currency,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<LedgerMove>, DbErr> {
    let values: Vec<Value> = vec![
        tx.tenant().as_uuid().into(),
        currency.code().into(),
        start.into(),
        end.into(),
        Account::PspClearing.code().into(),
    ];
    tx.query_all_raw(statement(
        &**tx,
        "SELECT e.id AS id, e.entry_key AS entry_key, e.kind AS kind, e.order_id AS order_id, \
         CAST(SUM(l.debit) - SUM(l.credit) AS BIGINT) AS amount \
         FROM journal_entries e JOIN journal_lines l \
         ON l.tenant_id = e.tenant_id AND l.entry_id = e.id \
         WHERE e.tenant_id = $1 AND e.currency = $2 AND e.posted \
         AND e.occurred_at >= $3 AND e.occurred_at < $4 AND l.account_code = $5 \
         GROUP BY e.id, e.entry_key, e.kind, e.order_id ORDER BY e.id",
        values,
    ))
    .await?
    .iter()
    .map(|row| {
        let order: Option<Uuid> = col(row, "order_id")?;
        Ok(LedgerMove {
            entry: EntryId::from_uuid(col(row, "id")?).to_string(),
            key: col(row, "entry_key")?,
            kind: col(row, "kind")?,
            order: order.map(|o| OrderId::from_uuid(o).to_string()),
            amount: col(row, "amount")?,
        })
    })
    .collect()
}
