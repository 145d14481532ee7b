//! All SQL of the accounting service: the chart per currency, posting entries (the schema
//! refuses an unbalanced, changed or deleted one; ADR 0038), the booked sales that refunds
//! reverse, and the reads. Customer documents (invoices, credit notes) live in `documents`.

pub mod documents;
pub mod expenses;
pub mod legal;
pub mod order_tokens;
pub mod reconciliation;
pub mod reports;

use crate::domain::EntryId;
use crate::domain::accounts::Account;
use crate::domain::entry::Entry;
use crate::domain::posting::Booked;
use mercato_db::sql::{placeholders, statement};
use mercato_db::{Migration, TenantTx};
use mercato_kernel::Currency;
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::VendorId;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable, Value};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "chart of accounts, journal entries and lines, balances, booked sales",
        include_str!("../../migrations/0001_ledger_tables.sql"),
        &[
            "ledger_accounts",
            "journal_entries",
            "journal_lines",
            "account_balances",
            "booked_vendor_orders",
        ],
    ),
    Migration {
        version: 2,
        name: "journal entries balance when posted and never change after",
        sqlite: include_str!("../../migrations/0002_ledger_guards.sqlite.sql"),
        postgres: include_str!("../../migrations/0002_ledger_guards.postgres.sql"),
        tenant_tables: &[],
    },
    Migration::portable(
        3,
        "customer invoices and credit notes, numbered per shop and series",
        include_str!("../../migrations/0003_customer_documents.sql"),
        &["document_counters", "customer_documents"],
    ),
    Migration::portable(
        4,
        "expenses, and entries by when they occurred for the reports",
        include_str!("../../migrations/0004_expenses.sql"),
        &["expenses"],
    ),
    Migration {
        version: 5,
        name: "commission invoices, the shop's invoice settings, vendors' legal details and tax rates",
        sqlite: include_str!("../../migrations/0005_commission_invoices.sqlite.sql"),
        postgres: include_str!("../../migrations/0005_commission_invoices.postgres.sql"),
        tenant_tables: &["invoice_settings", "vendor_legal", "tax_rates"],
    },
    Migration::portable(
        6,
        "the hash of each paid order's guest token, for guests reading its documents",
        include_str!("../../migrations/0006_guest_order_tokens.sql"),
        &["document_order_tokens"],
    ),
    Migration::portable(
        7,
        "the payment providers' balance transactions, for the reconciliation",
        include_str!("../../migrations/0007_provider_balance_transactions.sql"),
        &["provider_balance_transactions"],
    ),
    Migration {
        version: 8,
        name: "commission credit notes, and which invoice carried each vendor order's commission",
        sqlite: include_str!("../../migrations/0008_commission_credit_notes.sqlite.sql"),
        postgres: include_str!("../../migrations/0008_commission_credit_notes.postgres.sql"),
        tenant_tables: &["commission_items"],
    },
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
    mercato_storage::quota::STORAGE_USAGE_MIGRATION,
];

fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, DbErr> {
    row.try_get("", name)
}

fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

/// The vendor of a balance row; the nil UUID for every account but vendor payables.
fn vendor_key(vendor: Option<VendorId>) -> Uuid {
    vendor.map_or(Uuid::nil(), |v| v.as_uuid())
}

/// Creates `currency`'s chart of accounts for the shop, once.
pub async fn ensure_chart(tx: &TenantTx, currency: Currency) -> Result<(), DbErr> {
    let now = crate::now();
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into(), currency.code().into()];
    for a in Account::ALL {
        values.push(a.code().into());
        values.push(a.name().into());
        values.push(a.kind().code().into());
    }
    values.push(now.into());
    let last = values.len();
    let rows: Vec<String> = (0..Account::ALL.len())
        .map(|i| {
            format!(
                "($1, $2, ${}, ${}, ${}, ${last})",
                3 + 3 * i,
                4 + 3 * i,
                5 + 3 * i
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO ledger_accounts (tenant_id, currency, code, name, kind, created_at) \
         VALUES {} ON CONFLICT DO NOTHING",
        rows.join(", ")
    );
    tx.execute_raw(statement(&**tx, &sql, values)).await?;
    Ok(())
}

/// What a transaction's postings add to the running balances, per currency, account and
/// vendor: written once, at the end ([`add_to_balances`]), so a burst of postings updates
/// each balance row once rather than once per entry.
#[derive(Debug, Default)]
pub struct BalanceChanges(BTreeMap<(Currency, &'static str, Uuid), (i64, i64)>);

impl BalanceChanges {
    fn add(&mut self, entry: &Entry) {
        for line in &entry.lines {
            let sum = self
                .0
                .entry((entry.currency, line.account.code(), vendor_key(line.vendor)))
                .or_default();
            sum.0 += line.debit;
            sum.1 += line.credit;
        }
    }
}

/// Posts each of `entries` unless an entry with its key was posted before; for each, whether
/// it was posted now. Three statements for all of them (the entries, their lines, the
/// posting), in `tx`; the schema checks each entry's balance when it is marked posted, and
/// refuses to commit an entry left unposted (PostgreSQL). What they add to the balances goes
/// into `changes`, for [`add_to_balances`] before the commit.
pub async fn post_all(
    tx: &TenantTx,
    entries: &[Entry],
    changes: &mut BalanceChanges,
) -> Result<Vec<bool>, DbErr> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = tx.tenant().as_uuid();
    let now = crate::now();
    let ids: Vec<Uuid> = entries.iter().map(|_| EntryId::new().as_uuid()).collect();
    // 1. The entries, unposted; the ones whose key is new come back.
    const ENTRY_WIDTH: usize = 12;
    let mut values: Vec<Value> = Vec::with_capacity(2 + ENTRY_WIDTH * entries.len());
    values.push(tenant.into());
    values.push(now.into());
    for (entry, id) in entries.iter().zip(&ids) {
        values.push((*id).into());
        values.push(entry.key.clone().into());
        values.push(entry.kind.code().into());
        values.push(entry.currency.code().into());
        values.push(entry.memo.clone().into());
        values.push(entry.source.order.map(|o| o.as_uuid()).into());
        values.push(entry.source.vendor_order.map(|v| v.as_uuid()).into());
        values.push(entry.source.event_id.into());
        values.push(entry.source.event.clone().into());
        values.push(entry.total().into());
        values.push(false.into());
        values.push(entry.source.occurred_at.into());
    }
    let rows: Vec<String> = (0..entries.len())
        .map(|i| {
            format!(
                "($1, {}, $2)",
                placeholders(3 + ENTRY_WIDTH * i, ENTRY_WIDTH)
            )
        })
        .collect();
    let inserted = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO journal_entries (tenant_id, id, entry_key, kind, currency, memo, \
                 order_id, vendor_order_id, source_event_id, source_event, total, posted, \
                 occurred_at, posted_at) VALUES {} \
                 ON CONFLICT (tenant_id, entry_key) DO NOTHING RETURNING id",
                rows.join(", ")
            ),
            values,
        ))
        .await?
        .iter()
        .map(|row| col::<Uuid>(row, "id"))
        .collect::<Result<std::collections::HashSet<Uuid>, DbErr>>()?;
    let posted: Vec<bool> = ids.iter().map(|id| inserted.contains(id)).collect();
    let new: Vec<(&Entry, Uuid)> = entries
        .iter()
        .zip(&ids)
        .zip(&posted)
        .filter(|(_, p)| **p)
        .map(|((e, id), _)| (e, *id))
        .collect();
    if new.is_empty() {
        return Ok(posted);
    }
    // 2. Their lines.
    const LINE_WIDTH: usize = 7;
    let lines: Vec<(Uuid, usize, &Entry, &crate::domain::entry::Line)> = new
        .iter()
        .flat_map(|(e, id)| {
            e.lines
                .iter()
                .enumerate()
                .map(move |(no, l)| (*id, no, *e, l))
        })
        .collect();
    for chunk in lines.chunks(1_000) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + LINE_WIDTH * chunk.len());
        values.push(tenant.into());
        for (id, no, entry, line) in chunk {
            values.push((*id).into());
            values.push(i32::try_from(*no).unwrap_or(i32::MAX).into());
            values.push(entry.currency.code().into());
            values.push(line.account.code().into());
            values.push(line.vendor.map(|v| v.as_uuid()).into());
            values.push(line.debit.into());
            values.push(line.credit.into());
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, {})", placeholders(2 + LINE_WIDTH * i, LINE_WIDTH)))
            .collect();
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO journal_lines (tenant_id, entry_id, line_no, currency, \
                 account_code, vendor_id, debit, credit) VALUES {}",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    // 3. Posted: the schema checks each balances.
    let mut values: Vec<Value> = vec![tenant.into()];
    values.extend(new.iter().map(|(_, id)| (*id).into()));
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "UPDATE journal_entries SET posted = TRUE WHERE tenant_id = $1 AND id IN ({})",
            placeholders(2, new.len())
        ),
        values,
    ))
    .await?;
    for (entry, _) in &new {
        changes.add(entry);
    }
    Ok(posted)
}

/// Adds `changes` to the running balances the trial balance reads: one statement per
/// currency, each balance row once.
pub async fn add_to_balances(tx: &TenantTx, changes: BalanceChanges) -> Result<(), DbErr> {
    const WIDTH: usize = 5;
    let rows: Vec<_> = changes.0.into_iter().collect();
    for chunk in rows.chunks(1_000) {
        let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
        for ((currency, code, vendor), (debit, credit)) in chunk {
            values.push(currency.code().into());
            values.push((*code).into());
            values.push((*vendor).into());
            values.push((*debit).into());
            values.push((*credit).into());
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, {})", placeholders(2 + WIDTH * i, WIDTH)))
            .collect();
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO account_balances (tenant_id, currency, code, vendor_key, debit, \
                 credit) VALUES {} ON CONFLICT (tenant_id, currency, code, vendor_key) DO UPDATE \
                 SET debit = account_balances.debit + excluded.debit, \
                 credit = account_balances.credit + excluded.credit",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// The booked sales of `ids`, by vendor order.
pub async fn booked(
    tx: &TenantTx,
    ids: &[VendorOrderId],
) -> Result<HashMap<VendorOrderId, Booked>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    values.extend(ids.iter().map(|id| id.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT vendor_order_id, order_id, vendor_id, currency, total, tax, commission, \
                 discount_by_shop, refunded FROM booked_vendor_orders \
                 WHERE tenant_id = $1 AND vendor_order_id IN ({})",
                placeholders(2, ids.len())
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let currency: String = col(row, "currency")?;
            let booked = Booked {
                vendor_order: VendorOrderId::from_uuid(col(row, "vendor_order_id")?),
                order: OrderId::from_uuid(col(row, "order_id")?),
                vendor: VendorId::from_uuid(col(row, "vendor_id")?),
                currency: Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
                total: col(row, "total")?,
                tax: col(row, "tax")?,
                commission: col(row, "commission")?,
                discount_by_shop: col(row, "discount_by_shop")?,
                refunded: col(row, "refunded")?,
            };
            Ok((booked.vendor_order, booked))
        })
        .collect()
}

/// Records booked sales, or what has been refunded of them since: one statement.
pub async fn save_booked(tx: &TenantTx, booked: &[Booked]) -> Result<(), DbErr> {
    if booked.is_empty() {
        return Ok(());
    }
    const WIDTH: usize = 9;
    let mut values: Vec<Value> = Vec::with_capacity(1 + WIDTH * booked.len());
    values.push(tx.tenant().as_uuid().into());
    for b in booked {
        values.push(b.vendor_order.as_uuid().into());
        values.push(b.order.as_uuid().into());
        values.push(b.vendor.as_uuid().into());
        values.push(b.currency.code().into());
        values.push(b.total.into());
        values.push(b.tax.into());
        values.push(b.commission.into());
        values.push(b.discount_by_shop.into());
        values.push(b.refunded.into());
    }
    let rows: Vec<String> = (0..booked.len())
        .map(|i| format!("($1, {})", placeholders(2 + WIDTH * i, WIDTH)))
        .collect();
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO booked_vendor_orders (tenant_id, vendor_order_id, order_id, vendor_id, \
             currency, total, tax, commission, discount_by_shop, refunded) VALUES {} \
             ON CONFLICT (tenant_id, vendor_order_id) DO UPDATE SET refunded = excluded.refunded",
            rows.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// Each account of `currency`'s chart with its summed debits and credits (vendors'
/// payables together), in code order; empty when the shop has no ledger in `currency`.
pub async fn account_totals(
    tx: &impl ConnectionTrait,
    tenant: Uuid,
    currency: Currency,
) -> Result<Vec<(Account, i64, i64)>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            tx,
            "SELECT a.code AS code, \
             CAST(COALESCE(SUM(b.debit), 0) AS BIGINT) AS debit, \
             CAST(COALESCE(SUM(b.credit), 0) AS BIGINT) AS credit \
             FROM ledger_accounts a LEFT JOIN account_balances b \
             ON b.tenant_id = a.tenant_id AND b.currency = a.currency AND b.code = a.code \
             WHERE a.tenant_id = $1 AND a.currency = $2 GROUP BY a.code ORDER BY a.code",
            [tenant.into(), currency.code().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let code: String = col(row, "code")?;
            let account = Account::parse(&code).ok_or_else(|| corrupt("account", &code))?;
            Ok((account, col(row, "debit")?, col(row, "credit")?))
        })
        .collect()
}

/// One posted entry with its lines, as the API shows it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub id: EntryId,
    pub key: String,
    pub kind: String,
    pub currency: String,
    pub memo: String,
    pub order: Option<Uuid>,
    pub vendor_order: Option<Uuid>,
    pub source_event: Option<String>,
    pub source_event_id: Option<Uuid>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub posted_at: chrono::DateTime<chrono::Utc>,
    pub lines: Vec<StoredLine>,
}

#[derive(Debug, Clone)]
pub struct StoredLine {
    pub account: Account,
    pub vendor: Option<Uuid>,
    pub debit: i64,
    pub credit: i64,
}

/// Posted entries after `after` (id order), at most `limit`, of `order` when given.
pub async fn entries(
    tx: &impl ConnectionTrait,
    tenant: Uuid,
    order: Option<OrderId>,
    after: Option<EntryId>,
    limit: u64,
) -> Result<Vec<StoredEntry>, DbErr> {
    let mut sql = String::from(
        "SELECT id, entry_key, kind, currency, memo, order_id, vendor_order_id, source_event, \
         source_event_id, occurred_at, posted_at FROM journal_entries \
         WHERE tenant_id = $1 AND posted",
    );
    let mut values: Vec<Value> = vec![tenant.into()];
    if let Some(order) = order {
        values.push(order.as_uuid().into());
        sql.push_str(&format!(" AND order_id = ${}", values.len()));
    }
    if let Some(after) = after {
        values.push(after.as_uuid().into());
        sql.push_str(&format!(" AND id > ${}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
    let rows = tx.query_all_raw(statement(tx, &sql, values)).await?;
    let mut out: Vec<StoredEntry> = rows
        .iter()
        .map(|row| {
            Ok(StoredEntry {
                id: EntryId::from_uuid(col(row, "id")?),
                key: col(row, "entry_key")?,
                kind: col(row, "kind")?,
                currency: col(row, "currency")?,
                memo: col(row, "memo")?,
                order: col(row, "order_id")?,
                vendor_order: col(row, "vendor_order_id")?,
                source_event: col(row, "source_event")?,
                source_event_id: col(row, "source_event_id")?,
                occurred_at: col(row, "occurred_at")?,
                posted_at: col(row, "posted_at")?,
                lines: Vec::new(),
            })
        })
        .collect::<Result<_, DbErr>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let mut values: Vec<Value> = vec![tenant.into()];
    values.extend(out.iter().map(|e| e.id.as_uuid().into()));
    let lines = tx
        .query_all_raw(statement(
            tx,
            &format!(
                "SELECT entry_id, account_code, vendor_id, debit, credit FROM journal_lines \
                 WHERE tenant_id = $1 AND entry_id IN ({}) ORDER BY entry_id, line_no",
                placeholders(2, out.len())
            ),
            values,
        ))
        .await?;
    let index: HashMap<Uuid, usize> = out
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_uuid(), i))
        .collect();
    for row in &lines {
        let entry: Uuid = col(row, "entry_id")?;
        let code: String = col(row, "account_code")?;
        let line = StoredLine {
            account: Account::parse(&code).ok_or_else(|| corrupt("account", &code))?,
            vendor: col(row, "vendor_id")?,
            debit: col(row, "debit")?,
            credit: col(row, "credit")?,
        };
        if let Some(&i) = index.get(&entry) {
            out[i].lines.push(line);
        }
    }
    Ok(out)
}

/// The id of the posted entry with `key`, if there is one.
pub async fn entry_id(tx: &TenantTx, key: &str) -> Result<Option<EntryId>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        "SELECT id FROM journal_entries WHERE tenant_id = $1 AND entry_key = $2 AND posted",
        [tx.tenant().as_uuid().into(), key.into()],
    ))
    .await?
    .map(|row| col::<Uuid>(&row, "id").map(EntryId::from_uuid))
    .transpose()
}
