//! The `expenses` table (ADR 0042): one row per expense, written in the transaction that
//! posts its entry, keyed per shop by the request's idempotency key; afterwards only its
//! receipt and its reversal are ever set.

use super::{col, corrupt};
use crate::domain::expense::{Category, PaidFrom};
use crate::domain::{EntryId, ExpenseId};
use mercato_db::TenantTx;
use mercato_db::sql::statement;
use mercato_kernel::Currency;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};

/// An expense as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expense {
    pub id: ExpenseId,
    pub idempotency_key: String,
    /// The request the key was first used with (canonical JSON).
    pub request: String,
    pub category: Category,
    pub description: String,
    pub currency: Currency,
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
    /// The rate the VAT was worked out from; `None` when the VAT amount was given.
    pub vat_rate: Option<String>,
    pub incurred_on: chrono::NaiveDate,
    pub paid_from: PaidFrom,
    pub entry: EntryId,
    pub recorded_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub receipt: Option<Receipt>,
    pub reversal: Option<Reversal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub key: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    pub at: chrono::DateTime<chrono::Utc>,
    pub entry: EntryId,
}

const COLUMNS: &str = "id, idempotency_key, request, category, description, currency, gross, \
     net, vat, vat_rate, incurred_on, paid_from, entry_id, recorded_by, created_at, \
     receipt_key, receipt_content_type, receipt_size, reversed_at, reversal_entry_id";

fn read(row: &QueryResult) -> Result<Expense, DbErr> {
    let category: String = col(row, "category")?;
    let currency: String = col(row, "currency")?;
    let paid_from: String = col(row, "paid_from")?;
    let receipt_key: Option<String> = col(row, "receipt_key")?;
    let reversed_at: Option<chrono::DateTime<chrono::Utc>> = col(row, "reversed_at")?;
    let reversal_entry: Option<uuid::Uuid> = col(row, "reversal_entry_id")?;
    Ok(Expense {
        id: ExpenseId::from_uuid(col(row, "id")?),
        idempotency_key: col(row, "idempotency_key")?,
        request: col(row, "request")?,
        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
        description: col(row, "description")?,
        currency: Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
        gross: col(row, "gross")?,
        net: col(row, "net")?,
        vat: col(row, "vat")?,
        vat_rate: col(row, "vat_rate")?,
        incurred_on: col(row, "incurred_on")?,
        paid_from: PaidFrom::parse(&paid_from).ok_or_else(|| corrupt("paid_from", &paid_from))?,
        entry: EntryId::from_uuid(col(row, "entry_id")?),
        recorded_by: col(row, "recorded_by")?,
        created_at: col(row, "created_at")?,
        receipt: match receipt_key {
            None => None,
            Some(key) => Some(Receipt {
                key,
                content_type: col(row, "receipt_content_type")?,
                size: col(row, "receipt_size")?,
            }),
        },
        reversal: match (reversed_at, reversal_entry) {
            (Some(at), Some(entry)) => Some(Reversal {
                at,
                entry: EntryId::from_uuid(entry),
            }),
            _ => None,
        },
    })
}

/// Records `e` unless the shop already has an expense with its idempotency key; whether it
/// did.
pub async fn insert(tx: &TenantTx, e: &Expense) -> Result<bool, DbErr> {
    let values: Vec<Value> = vec![
        tx.tenant().as_uuid().into(),
        e.id.as_uuid().into(),
        e.idempotency_key.clone().into(),
        e.request.clone().into(),
        e.category.code().into(),
        e.description.clone().into(),
        e.currency.code().into(),
        e.gross.into(),
        e.net.into(),
        e.vat.into(),
        e.vat_rate.clone().into(),
        e.incurred_on.into(),
        e.paid_from.code().into(),
        e.entry.as_uuid().into(),
        e.recorded_by.clone().into(),
        e.created_at.into(),
    ];
    let result = tx
        .execute_raw(statement(
            &**tx,
            "INSERT INTO expenses (tenant_id, id, idempotency_key, request, category, \
             description, currency, gross, net, vat, vat_rate, incurred_on, paid_from, \
             entry_id, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
            values,
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn find(tx: &TenantTx, id: ExpenseId) -> Result<Option<Expense>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {COLUMNS} FROM expenses WHERE tenant_id = $1 AND id = $2"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .as_ref()
    .map(read)
    .transpose()
}

pub async fn find_by_key(tx: &TenantTx, key: &str) -> Result<Option<Expense>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {COLUMNS} FROM expenses WHERE tenant_id = $1 AND idempotency_key = $2"),
        [tx.tenant().as_uuid().into(), key.into()],
    ))
    .await?
    .as_ref()
    .map(read)
    .transpose()
}

/// Which expenses a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Incurred on or after.
    pub from: Option<chrono::NaiveDate>,
    /// Incurred on or before.
    pub to: Option<chrono::NaiveDate>,
    pub category: Option<Category>,
}

/// Expenses after `after` (id order, i.e. as recorded), at most `limit`.
pub async fn list(
    tx: &TenantTx,
    filter: &Filter,
    after: Option<ExpenseId>,
    limit: u64,
) -> Result<Vec<Expense>, DbErr> {
    let mut sql = format!("SELECT {COLUMNS} FROM expenses WHERE tenant_id = $1");
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    if let Some(from) = filter.from {
        values.push(from.into());
        sql.push_str(&format!(" AND incurred_on >= ${}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(to.into());
        sql.push_str(&format!(" AND incurred_on <= ${}", values.len()));
    }
    if let Some(category) = filter.category {
        values.push(category.code().into());
        sql.push_str(&format!(" AND category = ${}", values.len()));
    }
    if let Some(after) = after {
        values.push(after.as_uuid().into());
        sql.push_str(&format!(" AND id > ${}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
    tx.query_all_raw(statement(&**tx, &sql, values))
        .await?
        .iter()
        .map(read)
        .collect()
}

/// Points the expense at its (new) receipt; the bytes of the one it replaces, if any.
pub async fn set_receipt(
    tx: &TenantTx,
    id: ExpenseId,
    receipt: &Receipt,
) -> Result<Option<i64>, DbErr> {
    let before = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT receipt_size FROM expenses WHERE tenant_id = $1 AND id = $2",
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?
        .map(|row| col::<Option<i64>>(&row, "receipt_size"))
        .transpose()?
        .flatten();
    tx.execute_raw(statement(
        &**tx,
        "UPDATE expenses SET receipt_key = $3, receipt_content_type = $4, receipt_size = $5 \
         WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            receipt.key.clone().into(),
            receipt.content_type.clone().into(),
            receipt.size.into(),
        ],
    ))
    .await?;
    Ok(before)
}

/// Marks the expense reversed by `entry`, unless it already was; whether it did.
pub async fn mark_reversed(
    tx: &TenantTx,
    id: ExpenseId,
    entry: EntryId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = tx
        .execute_raw(statement(
            &**tx,
            "UPDATE expenses SET reversed_at = $3, reversal_entry_id = $4 \
             WHERE tenant_id = $1 AND id = $2 AND reversed_at IS NULL",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                at.into(),
                entry.as_uuid().into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}
