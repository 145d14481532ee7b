//! The reports' reads (ADR 0042): accounts' movements in a period and a vendor's payable
//! line by line, from the journal itself (posted entries by when they occurred), not from
//! the running balances, which know no dates.

use super::col;
use crate::domain::EntryId;
use crate::domain::accounts::Account;
use mercato_db::TenantTx;
use mercato_db::sql::statement;
use mercato_kernel::Currency;
use mercato_tenant_context::VendorId;
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::BTreeMap;

type Instant = chrono::DateTime<chrono::Utc>;

/// Each account's summed debits and credits over the posted entries in `currency` that
/// occurred in `[from, to)`; accounts without lines are absent.
pub async fn movements(
    tx: &TenantTx,
    currency: Currency,
    from: Instant,
    to: Instant,
) -> Result<BTreeMap<Account, (i64, i64)>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT l.account_code AS code, \
             CAST(COALESCE(SUM(l.debit), 0) AS BIGINT) AS debit, \
             CAST(COALESCE(SUM(l.credit), 0) AS BIGINT) AS credit \
             FROM journal_entries e JOIN journal_lines l \
             ON l.tenant_id = e.tenant_id AND l.entry_id = e.id \
             WHERE e.tenant_id = $1 AND e.currency = $2 AND e.posted \
             AND e.occurred_at >= $3 AND e.occurred_at < $4 \
             GROUP BY l.account_code",
            [
                tx.tenant().as_uuid().into(),
                currency.code().into(),
                from.into(),
                to.into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let code: String = col(row, "code")?;
            let account = Account::parse(&code).ok_or_else(|| super::corrupt("account", &code))?;
            Ok((account, (col(row, "debit")?, col(row, "credit")?)))
        })
        .collect()
}

/// What the shop owed `vendor` in `currency` from the entries that occurred before
/// `before`: the credits less the debits of its payable.
pub async fn vendor_balance_before(
    tx: &TenantTx,
    vendor: VendorId,
    currency: Currency,
    before: Instant,
) -> Result<i64, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT CAST(COALESCE(SUM(l.credit), 0) - COALESCE(SUM(l.debit), 0) AS BIGINT) \
             AS balance \
             FROM journal_lines l JOIN journal_entries e \
             ON e.tenant_id = l.tenant_id AND e.id = l.entry_id \
             WHERE l.tenant_id = $1 AND l.vendor_id = $2 AND l.currency = $3 \
             AND l.account_code = '2100' AND e.posted AND e.occurred_at < $4",
            [
                tx.tenant().as_uuid().into(),
                vendor.as_uuid().into(),
                currency.code().into(),
                before.into(),
            ],
        ))
        .await?;
    match row {
        Some(row) => Ok(col::<Option<i64>>(&row, "balance")?.unwrap_or(0)),
        None => Ok(0),
    }
}

/// One entry's movement of a vendor's payable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayableMovement {
    pub entry: EntryId,
    pub kind: String,
    pub memo: String,
    pub order: Option<uuid::Uuid>,
    pub vendor_order: Option<uuid::Uuid>,
    pub occurred_at: Instant,
    pub debit: i64,
    pub credit: i64,
}

/// The posted entries in `currency` that occurred in `[from, to)` and move `vendor`'s
/// payable, in the order they occurred (then posted), with what each moved.
pub async fn vendor_movements(
    tx: &TenantTx,
    vendor: VendorId,
    currency: Currency,
    from: Instant,
    to: Instant,
) -> Result<Vec<PayableMovement>, DbErr> {
    let values: Vec<Value> = vec![
        tx.tenant().as_uuid().into(),
        vendor.as_uuid().into(),
        currency.code().into(),
        from.into(),
        to.into(),
    ];
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT e.id AS id, e.kind AS kind, e.memo AS memo, e.order_id AS order_id, \
             e.vendor_order_id AS vendor_order_id, e.occurred_at AS occurred_at, \
             CAST(SUM(l.debit) AS BIGINT) AS debit, CAST(SUM(l.credit) AS BIGINT) AS credit \
             FROM journal_lines l JOIN journal_entries e \
             ON e.tenant_id = l.tenant_id AND e.id = l.entry_id \
             WHERE l.tenant_id = $1 AND l.vendor_id = $2 AND l.currency = $3 \
             AND l.account_code = '2100' AND e.posted \
             AND e.occurred_at >= $4 AND e.occurred_at < $5 \
             GROUP BY e.id, e.kind, e.memo, e.order_id, e.vendor_order_id, e.occurred_at \
             ORDER BY e.occurred_at, e.id",
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PayableMovement {
                entry: EntryId::from_uuid(col(row, "id")?),
                kind: col(row, "kind")?,
                memo: col(row, "memo")?,
                order: col(row, "order_id")?,
                vendor_order: col(row, "vendor_order_id")?,
                occurred_at: col(row, "occurred_at")?,
                debit: col(row, "debit")?,
                credit: col(row, "credit")?,
            })
        })
        .collect()
}
