//! Expenses as use cases (ADR 0042), called by `http::expenses`: recording one (its row
//! and its balanced entry in one transaction, once per idempotency key), reversing one
//! (the mirror entry, once), and keeping its receipt in object storage under the shop's
//! prefix, counted against the plan's storage limit.

use crate::domain::ExpenseId;
use crate::domain::expense::{self, Booking, Category, PaidFrom, Split};
use crate::problems::AccountingProblem;
use crate::repo::expenses::{self as rows, Expense, Receipt};
use crate::repo::{self, BalanceChanges};
use bytes::Bytes;
use mercato_db::Db;
use mercato_kernel::{Currency, Problem};
use mercato_storage::{MediaType, ObjectKey, Owner, Storage, quota, validate_upload};
use mercato_tenant_context::TenantId;

/// The storage area of receipts, under the shop's own prefix.
pub const RECEIPTS_AREA: &str = "receipts";
/// The areas of this service whose objects count against the plan's storage limit.
pub const STORAGE_AREAS: &[&str] = &[RECEIPTS_AREA];
/// What a receipt may be, recognised by its bytes.
pub const RECEIPT_TYPES: &[MediaType] = &[MediaType::Pdf, MediaType::Png, MediaType::Jpeg];
/// The largest receipt accepted (the gateway's body limit may be lower).
pub const MAX_RECEIPT_BYTES: usize = 10 * 1024 * 1024;

/// A valid request to record an expense.
#[derive(Debug, Clone)]
pub struct NewExpense {
    pub idempotency_key: String,
    /// The request in canonical form: a replay must carry the same.
    pub request: String,
    pub category: Category,
    pub description: String,
    pub currency: Currency,
    pub split: Split,
    pub vat_rate: Option<String>,
    pub incurred_on: chrono::NaiveDate,
    pub paid_from: PaidFrom,
    pub recorded_by: String,
}

/// What recording gave: the expense, and whether this request recorded it (or an earlier
/// one with the same key did).
#[derive(Debug)]
pub struct Recorded {
    pub expense: Expense,
    pub replayed: bool,
}

fn booking(e: &Expense) -> Booking {
    Booking {
        id: e.id,
        category: e.category,
        paid_from: e.paid_from,
        currency: e.currency,
        split: Split {
            gross: e.gross,
            net: e.net,
            vat: e.vat,
        },
        description: e.description.clone(),
    }
}

/// The expense an earlier request with `new`'s key recorded, if any; 422
/// `idempotency_key_reused` when that request was another.
async fn earlier(db: &Db, tenant: TenantId, new: &NewExpense) -> Result<Option<Expense>, Problem> {
    let tx = db.tenant_read(tenant).await?;
    let Some(before) = rows::find_by_key(&tx, &new.idempotency_key).await? else {
        return Ok(None);
    };
    if before.request != new.request {
        return Err(Problem::of(
            AccountingProblem::IdempotencyKeyReused,
            "this Idempotency-Key recorded another expense; use a new key for a new expense",
        ));
    }
    Ok(Some(before))
}

/// Records `new` and posts its entry, in one transaction; a repeated key gives back what
/// the first request recorded.
pub async fn record(db: &Db, tenant: TenantId, new: NewExpense) -> Result<Recorded, Problem> {
    if let Some(expense) = earlier(db, tenant, &new).await? {
        return Ok(Recorded {
            expense,
            replayed: true,
        });
    }
    let now = crate::now();
    let id = ExpenseId::new();
    let b = Booking {
        id,
        category: new.category,
        paid_from: new.paid_from,
        currency: new.currency,
        split: new.split,
        description: new.description.clone(),
    };
    let occurred_at = new.incurred_on.and_time(chrono::NaiveTime::MIN).and_utc();
    let entry = expense::entry(&b, occurred_at).map_err(Problem::internal)?;
    let tx = db.tenant_tx(tenant).await?;
    repo::ensure_chart(&tx, new.currency).await?;
    let mut changes = BalanceChanges::default();
    repo::post_all(&tx, std::slice::from_ref(&entry), &mut changes).await?;
    let entry_id = repo::entry_id(&tx, &entry.key).await?.ok_or_else(|| {
        Problem::internal(anyhow::anyhow!("expense entry {} not posted", entry.key))
    })?;
    let expense = Expense {
        id,
        idempotency_key: new.idempotency_key.clone(),
        request: new.request.clone(),
        category: new.category,
        description: new.description.clone(),
        currency: new.currency,
        gross: new.split.gross,
        net: new.split.net,
        vat: new.split.vat,
        vat_rate: new.vat_rate.clone(),
        incurred_on: new.incurred_on,
        paid_from: new.paid_from,
        entry: entry_id,
        recorded_by: new.recorded_by.clone(),
        created_at: now,
        receipt: None,
        reversal: None,
    };
    if !rows::insert(&tx, &expense).await? {
        // A concurrent request with the same key recorded first: this one posts nothing.
        drop(tx);
        let expense = earlier(db, tenant, &new)
            .await?
            .ok_or_else(|| Problem::internal(anyhow::anyhow!("idempotency key vanished")))?;
        return Ok(Recorded {
            expense,
            replayed: true,
        });
    }
    repo::add_to_balances(&tx, changes).await?;
    tx.commit().await?;
    Ok(Recorded {
        expense,
        replayed: false,
    })
}

/// Reverses expense `id`: posts the mirror of its entry, dated now, and marks it reversed,
/// once; reversing it again changes nothing. `None` when the shop has no such expense.
pub async fn reverse(db: &Db, tenant: TenantId, id: ExpenseId) -> Result<Option<Expense>, Problem> {
    let tx = db.tenant_tx(tenant).await?;
    let Some(expense) = rows::find(&tx, id).await? else {
        return Ok(None);
    };
    if expense.reversal.is_some() {
        return Ok(Some(expense));
    }
    let now = crate::now();
    let entry = expense::reversal(&booking(&expense), now).map_err(Problem::internal)?;
    let mut changes = BalanceChanges::default();
    repo::post_all(&tx, std::slice::from_ref(&entry), &mut changes).await?;
    let entry_id = repo::entry_id(&tx, &entry.key)
        .await?
        .ok_or_else(|| Problem::internal(anyhow::anyhow!("reversal {} not posted", entry.key)))?;
    rows::mark_reversed(&tx, id, entry_id, now).await?;
    repo::add_to_balances(&tx, changes).await?;
    let after = rows::find(&tx, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Stores `body` as expense `id`'s receipt, replacing any earlier one: checked by its bytes
/// (PDF, PNG or JPEG, at most [`MAX_RECEIPT_BYTES`]; a `declared` type other than the one
/// its bytes show is refused), counted against `limit_mb`, the object written before the
/// row that points at it. `None` when the shop has no such expense.
pub async fn store_receipt(
    db: &Db,
    storage: &Storage,
    tenant: TenantId,
    id: ExpenseId,
    declared: Option<&str>,
    body: Bytes,
    limit_mb: u32,
) -> Result<Option<Expense>, Problem> {
    let read = db.tenant_read(tenant).await?;
    if rows::find(&read, id).await?.is_none() {
        return Ok(None);
    }
    drop(read);
    let media =
        validate_upload(&body, RECEIPT_TYPES, MAX_RECEIPT_BYTES).map_err(|e| e.to_problem())?;
    if let Some(declared) = declared.and_then(MediaType::from_mime)
        && declared != media
    {
        return Err(
            Problem::from(mercato_kernel::Common::UnsupportedMediaType).with_detail(format!(
                "the body is {} but was sent as {}",
                media.mime(),
                declared.mime()
            )),
        );
    }
    let size = body.len() as u64;
    quota::precheck(db, tenant, storage, STORAGE_AREAS, size, limit_mb).await?;
    let key = ObjectKey::unique(tenant, Owner::Shop, RECEIPTS_AREA, Some(media.extension()))
        .map_err(Problem::internal)?;
    storage
        .put(&key, body, media.mime())
        .await
        .map_err(|e| e.into_problem())?;
    let tx = db.tenant_tx(tenant).await?;
    if let Err(problem) = quota::reserve(&tx, storage, STORAGE_AREAS, size, limit_mb).await {
        drop(tx);
        let _ = storage.delete(&key).await;
        return Err(problem);
    }
    let before = rows::find(&tx, id).await?;
    let receipt = Receipt {
        key: key.as_str().to_owned(),
        content_type: media.mime().to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
    };
    rows::set_receipt(&tx, id, &receipt).await?;
    let replaced = before.and_then(|e| e.receipt);
    if let Some(old) = &replaced {
        quota::release(&tx, u64::try_from(old.size).unwrap_or(0)).await?;
    }
    let after = rows::find(&tx, id).await?;
    tx.commit().await?;
    // The replaced file is no longer referenced; a failure here only leaves it behind.
    if let Some(old) = replaced
        && let Ok(old) = ObjectKey::parse(tenant, &old.key)
        && let Err(e) = storage.delete(&old).await
    {
        tracing::warn!(error = %e, key = %old, "could not delete a replaced receipt");
    }
    Ok(after)
}

/// Expense `id`'s receipt: its bytes and content type. `None` when the shop has no such
/// expense or it has no receipt.
pub async fn receipt(
    db: &Db,
    storage: &Storage,
    tenant: TenantId,
    id: ExpenseId,
) -> Result<Option<(Expense, Bytes)>, Problem> {
    let tx = db.tenant_read(tenant).await?;
    let Some(expense) = rows::find(&tx, id).await? else {
        return Ok(None);
    };
    drop(tx);
    let Some(stored) = &expense.receipt else {
        return Ok(None);
    };
    let key = ObjectKey::parse(tenant, &stored.key).map_err(Problem::internal)?;
    let object = storage.get(&key).await.map_err(|e| e.into_problem())?;
    Ok(Some((expense, object.bytes)))
}
