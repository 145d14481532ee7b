//! All SQL of the payouts service: the shop's hold, the mirror of vendors' payout accounts,
//! each paid vendor order's earnings and what refunds clawed back, runs and payouts, and the
//! test provider's own book of transfers.

use crate::domain::Sums;
use chrono::{DateTime, NaiveDate, Utc};
use mercato_db::sql::{for_update, placeholders, statement};
use mercato_db::{Db, Migration, TenantTx};
use mercato_kernel::Currency;
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_payouts_api::{PayoutId, PayoutRunId, PayoutStatus};
use mercato_tenant_context::VendorId;
use mercato_vendors_api::payout::{PayoutAccountUpdated, PayoutSchedule};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "hold settings, payout accounts, earnings, runs, payouts, test transfers",
        include_str!("../migrations/0001_payouts.sql"),
        &[
            "payout_settings",
            "payout_accounts",
            "vendor_earnings",
            "applied_refunds",
            "payout_runs",
            "payouts",
            "test_transfers",
        ],
    ),
    Migration::portable(
        2,
        "runs made by vendors' schedules",
        include_str!("../migrations/0002_scheduled_runs.sql"),
        &[],
    ),
    Migration::portable(
        3,
        "bank transfers: vendors' accounts and the shop's own",
        include_str!("../migrations/0003_bank_transfers.sql"),
        &[],
    ),
    Migration::portable(
        4,
        "the vendor orders each payout covers",
        include_str!("../migrations/0004_payout_items.sql"),
        &["payout_items"],
    ),
    Migration::portable(
        5,
        "payouts found by the provider's transfer id",
        include_str!("../migrations/0005_transfer_references.sql"),
        &[],
    ),
    Migration::portable(
        6,
        "when a paid payout was reversed",
        include_str!("../migrations/0006_reversed_payouts.sql"),
        &[],
    ),
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
];

fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, DbErr> {
    row.try_get("", name)
}

fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

fn currency(row: &QueryResult) -> Result<Currency, DbErr> {
    let code: String = col(row, "currency")?;
    Currency::parse(&code).map_err(|_| corrupt("currency", &code))
}

// ---- the shop's hold ------------------------------------------------------------------

/// The shop's own bank account, which bank transfers to vendors leave from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Debtor {
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
}

/// The shop's payout settings as stored: the hold, and its bank account if given.
pub async fn settings(tx: &TenantTx) -> Result<Option<(i32, Option<Debtor>)>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT hold_days, debtor_name, debtor_iban, debtor_bic FROM payout_settings \
             WHERE tenant_id = $1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let debtor = match (
        col::<Option<String>>(&row, "debtor_name")?,
        col::<Option<String>>(&row, "debtor_iban")?,
    ) {
        (Some(name), Some(iban)) => Some(Debtor {
            name,
            iban,
            bic: col(&row, "debtor_bic")?,
        }),
        _ => None,
    };
    Ok(Some((col(&row, "hold_days")?, debtor)))
}

/// Saves the shop's payout settings.
pub async fn save_settings(
    tx: &TenantTx,
    days: i32,
    debtor: Option<&Debtor>,
    actor: &str,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO payout_settings (tenant_id, hold_days, debtor_name, debtor_iban, \
         debtor_bic, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id) DO UPDATE SET hold_days = excluded.hold_days, \
         debtor_name = excluded.debtor_name, debtor_iban = excluded.debtor_iban, \
         debtor_bic = excluded.debtor_bic, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
        [
            tx.tenant().as_uuid().into(),
            days.into(),
            debtor.map(|d| d.name.clone()).into(),
            debtor.map(|d| d.iban.clone()).into(),
            debtor.and_then(|d| d.bic.clone()).into(),
            crate::now().into(),
            actor.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The shop's hold in days, if it set one.
pub async fn hold_days(tx: &TenantTx) -> Result<Option<i32>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT hold_days FROM payout_settings WHERE tenant_id = $1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    row.map(|r| col::<i32>(&r, "hold_days")).transpose()
}

// ---- payout accounts (vendors' mirror) ---------------------------------------------------

/// A vendor's payout terms as the last `payout_account.updated` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub vendor: VendorId,
    pub method: String,
    pub stripe_account_id: Option<String>,
    pub iban_masked: Option<String>,
    /// A bank transfer's account: its holder and whole IBAN.
    pub account_holder: Option<String>,
    pub iban: Option<String>,
    pub schedule: PayoutSchedule,
    pub minimum_payout: i64,
    pub currency: Currency,
}

pub async fn save_account(
    tx: &TenantTx,
    a: &PayoutAccountUpdated,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    // A stale event (an older save delivered late) changes nothing.
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO payout_accounts (tenant_id, vendor_id, method, stripe_account_id, \
         iban_masked, schedule, minimum_payout, currency, updated_at, account_holder, iban) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET method = excluded.method, \
         stripe_account_id = excluded.stripe_account_id, iban_masked = excluded.iban_masked, \
         account_holder = excluded.account_holder, iban = excluded.iban, \
         schedule = excluded.schedule, minimum_payout = excluded.minimum_payout, \
         currency = excluded.currency, updated_at = excluded.updated_at \
         WHERE payout_accounts.updated_at <= excluded.updated_at",
        [
            tx.tenant().as_uuid().into(),
            a.vendor_id.as_uuid().into(),
            a.method.clone().into(),
            a.stripe_account_id.clone().into(),
            a.iban_masked.clone().into(),
            a.schedule.code().into(),
            a.minimum_payout.amount.into(),
            a.currency.code().into(),
            at.into(),
            a.account_holder.clone().into(),
            a.iban.clone().into(),
        ],
    ))
    .await?;
    Ok(())
}

fn account_of(row: &QueryResult) -> Result<Account, DbErr> {
    let schedule: String = col(row, "schedule")?;
    Ok(Account {
        vendor: VendorId::from_uuid(col(row, "vendor_id")?),
        method: col(row, "method")?,
        stripe_account_id: col(row, "stripe_account_id")?,
        iban_masked: col(row, "iban_masked")?,
        account_holder: col(row, "account_holder")?,
        iban: col(row, "iban")?,
        schedule: PayoutSchedule::parse(&schedule).ok_or_else(|| corrupt("schedule", &schedule))?,
        minimum_payout: col(row, "minimum_payout")?,
        currency: currency(row)?,
    })
}

const ACCOUNT_COLUMNS: &str = "vendor_id, method, stripe_account_id, iban_masked, \
                               account_holder, iban, schedule, minimum_payout, currency";

/// Every vendor of the shop with a payout account, by vendor id.
pub async fn accounts(tx: &TenantTx) -> Result<Vec<Account>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        &format!(
            "SELECT {ACCOUNT_COLUMNS} FROM payout_accounts WHERE tenant_id = $1 \
             ORDER BY vendor_id"
        ),
        [tx.tenant().as_uuid().into()],
    ))
    .await?
    .iter()
    .map(account_of)
    .collect()
}

/// The vendor's payout account; `lock` holds it (PostgreSQL) so that two runs paying the
/// same vendor take turns.
pub async fn account(
    tx: &TenantTx,
    vendor: VendorId,
    lock: bool,
) -> Result<Option<Account>, DbErr> {
    let lock = if lock { for_update(&**tx) } else { "" };
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {ACCOUNT_COLUMNS} FROM payout_accounts \
             WHERE tenant_id = $1 AND vendor_id = $2{lock}"
        ),
        [tx.tenant().as_uuid().into(), vendor.as_uuid().into()],
    ))
    .await?
    .map(|r| account_of(&r))
    .transpose()
}

// ---- earnings ---------------------------------------------------------------------------

/// A paid vendor order's money, as the balance needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earning {
    pub vendor_order: VendorOrderId,
    pub order: OrderId,
    pub vendor: VendorId,
    pub currency: Currency,
    pub total: i64,
    pub tax: i64,
    pub commission: i64,
    pub discount_by_shop: i64,
    pub earnings: i64,
    /// Of `total`, refunded so far.
    pub refunded: i64,
    /// Off `earnings`, by those refunds.
    pub clawed_back: i64,
    pub paid_at: DateTime<Utc>,
    pub available_at: Option<DateTime<Utc>>,
}

/// Records `earnings` once each (a redelivered `order.paid` adds nothing).
pub async fn add_earnings(tx: &TenantTx, earnings: &[Earning]) -> Result<(), DbErr> {
    // 10 bind values a row plus the shop's: far below either backend's parameter limit.
    const WIDTH: usize = 10;
    for chunk in earnings.chunks(500) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + WIDTH * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        for e in chunk {
            values.extend([
                e.vendor_order.as_uuid().into(),
                e.order.as_uuid().into(),
                e.vendor.as_uuid().into(),
                e.currency.code().into(),
                e.total.into(),
                e.tax.into(),
                e.commission.into(),
                e.discount_by_shop.into(),
                e.earnings.into(),
                e.paid_at.into(),
            ]);
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let from = 2 + WIDTH * i;
                format!(
                    "($1, {}, 0, 0, ${}, NULL, NULL)",
                    placeholders(from, WIDTH - 1),
                    from + WIDTH - 1
                )
            })
            .collect();
        // A vendor order recorded before (or twice in this burst) is recorded once.
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO vendor_earnings (tenant_id, vendor_order_id, order_id, vendor_id, \
                 currency, total, tax, commission, discount_by_shop, earnings, refunded, \
                 clawed_back, paid_at, delivered_at, available_at) VALUES {} \
                 ON CONFLICT (tenant_id, vendor_order_id) DO NOTHING",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

pub async fn earning(tx: &TenantTx, vendor_order: VendorOrderId) -> Result<Option<Earning>, DbErr> {
    let lock = for_update(&**tx);
    let Some(row) = tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT vendor_order_id, order_id, vendor_id, currency, total, tax, commission, \
                 discount_by_shop, earnings, refunded, clawed_back, paid_at, available_at \
                 FROM vendor_earnings WHERE tenant_id = $1 AND vendor_order_id = $2{lock}"
            ),
            [tx.tenant().as_uuid().into(), vendor_order.as_uuid().into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Earning {
        vendor_order: VendorOrderId::from_uuid(col(&row, "vendor_order_id")?),
        order: OrderId::from_uuid(col(&row, "order_id")?),
        vendor: VendorId::from_uuid(col(&row, "vendor_id")?),
        currency: currency(&row)?,
        total: col(&row, "total")?,
        tax: col(&row, "tax")?,
        commission: col(&row, "commission")?,
        discount_by_shop: col(&row, "discount_by_shop")?,
        earnings: col(&row, "earnings")?,
        refunded: col(&row, "refunded")?,
        clawed_back: col(&row, "clawed_back")?,
        paid_at: col(&row, "paid_at")?,
        available_at: col(&row, "available_at")?,
    }))
}

/// Starts the hold of a delivered vendor order (once: a later delivery event changes
/// nothing); whether a paid vendor order was there to mark.
pub async fn mark_delivered(
    tx: &TenantTx,
    vendor_order: VendorOrderId,
    delivered_at: DateTime<Utc>,
    available_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE vendor_earnings SET delivered_at = $3, available_at = $4 \
         WHERE tenant_id = $1 AND vendor_order_id = $2 AND delivered_at IS NULL",
        [
            tx.tenant().as_uuid().into(),
            vendor_order.as_uuid().into(),
            delivered_at.into(),
            available_at.into(),
        ],
    ))
    .await?;
    let known = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT 1 AS known FROM vendor_earnings WHERE tenant_id = $1 AND vendor_order_id = $2",
            [tx.tenant().as_uuid().into(), vendor_order.as_uuid().into()],
        ))
        .await?;
    Ok(known.is_some())
}

/// Applies one refund's share of a vendor order once: `amount` more refunded, `clawed_back`
/// more off the vendor's earnings. Whether it was new.
pub async fn apply_refund(
    tx: &TenantTx,
    refund: RefundId,
    vendor_order: VendorOrderId,
    amount: i64,
    clawed_back: i64,
) -> Result<bool, DbErr> {
    let tenant = tx.tenant().as_uuid();
    let new = tx
        .query_one_raw(statement(
            &**tx,
            "INSERT INTO applied_refunds (tenant_id, refund_id, vendor_order_id, amount, \
             clawed_back, applied_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, refund_id, vendor_order_id) DO NOTHING RETURNING amount",
            [
                tenant.into(),
                refund.as_uuid().into(),
                vendor_order.as_uuid().into(),
                amount.into(),
                clawed_back.into(),
                crate::now().into(),
            ],
        ))
        .await?
        .is_some();
    if new {
        tx.execute_raw(statement(
            &**tx,
            "UPDATE vendor_earnings SET refunded = refunded + $3, \
             clawed_back = clawed_back + $4 WHERE tenant_id = $1 AND vendor_order_id = $2",
            [
                tenant.into(),
                vendor_order.as_uuid().into(),
                amount.into(),
                clawed_back.into(),
            ],
        ))
        .await?;
    }
    Ok(new)
}

/// What the vendor's earnings and payouts in `currency` add up to at `now`.
pub async fn sums(
    conn: &impl ConnectionTrait,
    tenant: Uuid,
    vendor: VendorId,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<Sums, DbErr> {
    let key = || -> Vec<Value> {
        vec![
            tenant.into(),
            vendor.as_uuid().into(),
            currency.code().into(),
        ]
    };
    let mut values = key();
    values.push(now.into());
    let earned = conn
        .query_one_raw(statement(
            conn,
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN available_at IS NOT NULL AND available_at <= $4 \
                 THEN earnings - clawed_back ELSE 0 END), 0) AS BIGINT) AS matured, \
             CAST(COALESCE(SUM(CASE WHEN available_at IS NULL OR available_at > $4 \
                 THEN earnings - clawed_back ELSE 0 END), 0) AS BIGINT) AS maturing \
             FROM vendor_earnings WHERE tenant_id = $1 AND vendor_id = $2 AND currency = $3",
            values,
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("earnings sums".into()))?;
    let paid = conn
        .query_one_raw(statement(
            conn,
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN status IN ('pending', 'in_transit') \
                 THEN amount ELSE 0 END), 0) AS BIGINT) AS in_flight, \
             CAST(COALESCE(SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END), 0) AS BIGINT) \
                 AS paid \
             FROM payouts WHERE tenant_id = $1 AND vendor_id = $2 AND currency = $3",
            key(),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("payout sums".into()))?;
    Ok(Sums {
        matured: col(&earned, "matured")?,
        maturing: col(&earned, "maturing")?,
        in_flight: col(&paid, "in_flight")?,
        paid: col(&paid, "paid")?,
    })
}

/// The currencies the vendor has earnings in, oldest first.
pub async fn earning_currencies(tx: &TenantTx, vendor: VendorId) -> Result<Vec<Currency>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        "SELECT currency, MIN(paid_at) AS first FROM vendor_earnings \
         WHERE tenant_id = $1 AND vendor_id = $2 GROUP BY currency ORDER BY first",
        [tx.tenant().as_uuid().into(), vendor.as_uuid().into()],
    ))
    .await?
    .iter()
    .map(currency)
    .collect()
}

// ---- runs -------------------------------------------------------------------------------

/// A payout run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: PayoutRunId,
    pub idempotency_key: Option<String>,
    /// `queued`, `running` or `done`.
    pub status: String,
    pub vendors_due: i32,
    pub vendors_done: i32,
    pub started_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The day of a run made by vendors' schedules (it pays only vendors due that day);
    /// `None` for a run merchant staff started (it pays every vendor due).
    pub scheduled_for: Option<NaiveDate>,
}

const RUN_COLUMNS: &str = "id, idempotency_key, status, vendors_due, vendors_done, started_by, \
                           created_at, finished_at, scheduled_for";

fn run_of(row: &QueryResult) -> Result<Run, DbErr> {
    Ok(Run {
        id: PayoutRunId::from_uuid(col(row, "id")?),
        idempotency_key: col(row, "idempotency_key")?,
        status: col(row, "status")?,
        vendors_due: col(row, "vendors_due")?,
        vendors_done: col(row, "vendors_done")?,
        started_by: col(row, "started_by")?,
        created_at: col(row, "created_at")?,
        finished_at: col(row, "finished_at")?,
        scheduled_for: col(row, "scheduled_for")?,
    })
}

pub async fn insert_run(tx: &TenantTx, run: &Run) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO payout_runs (tenant_id, {RUN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        [
            tx.tenant().as_uuid().into(),
            run.id.as_uuid().into(),
            run.idempotency_key.clone().into(),
            run.status.clone().into(),
            run.vendors_due.into(),
            run.vendors_done.into(),
            run.started_by.clone().into(),
            run.created_at.into(),
            run.finished_at.into(),
            run.scheduled_for.into(),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn run(tx: &TenantTx, id: PayoutRunId) -> Result<Option<Run>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {RUN_COLUMNS} FROM payout_runs WHERE tenant_id = $1 AND id = $2"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .map(|r| run_of(&r))
    .transpose()
}

pub async fn run_by_key(tx: &TenantTx, key: &str) -> Result<Option<Run>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {RUN_COLUMNS} FROM payout_runs WHERE tenant_id = $1 AND idempotency_key = $2"
        ),
        [tx.tenant().as_uuid().into(), key.into()],
    ))
    .await?
    .map(|r| run_of(&r))
    .transpose()
}

/// Records a run's progress; `finished` ends it.
pub async fn set_run_progress(
    tx: &TenantTx,
    id: PayoutRunId,
    due: i32,
    done: i32,
    finished: bool,
) -> Result<(), DbErr> {
    let (status, finished_at) = if finished {
        ("done", Some(crate::now()))
    } else {
        ("running", None)
    };
    tx.execute_raw(statement(
        &**tx,
        "UPDATE payout_runs SET status = $3, vendors_due = $4, vendors_done = $5, \
         finished_at = $6 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            status.into(),
            due.into(),
            done.into(),
            finished_at.into(),
        ],
    ))
    .await?;
    Ok(())
}

// ---- payouts ----------------------------------------------------------------------------

/// A payout as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub id: PayoutId,
    pub run: PayoutRunId,
    pub vendor: VendorId,
    pub currency: Currency,
    pub amount: i64,
    pub status: PayoutStatus,
    pub method: String,
    pub reference: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PAYOUT_COLUMNS: &str = "id, run_id, vendor_id, currency, amount, status, method, \
                              reference, failure, created_at, updated_at";

fn payout_of(row: &QueryResult) -> Result<Payout, DbErr> {
    let status: String = col(row, "status")?;
    Ok(Payout {
        id: PayoutId::from_uuid(col(row, "id")?),
        run: PayoutRunId::from_uuid(col(row, "run_id")?),
        vendor: VendorId::from_uuid(col(row, "vendor_id")?),
        currency: currency(row)?,
        amount: col(row, "amount")?,
        status: PayoutStatus::parse(&status).ok_or_else(|| corrupt("payout status", &status))?,
        method: col(row, "method")?,
        reference: col(row, "reference")?,
        failure: col(row, "failure")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// Inserts `p` unless the run has a payout for the vendor and currency already; the one
/// that is stored.
pub async fn insert_payout(tx: &TenantTx, p: &Payout) -> Result<Payout, DbErr> {
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO payouts (tenant_id, {PAYOUT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (tenant_id, run_id, vendor_id, currency) DO NOTHING"
        ),
        [
            tx.tenant().as_uuid().into(),
            p.id.as_uuid().into(),
            p.run.as_uuid().into(),
            p.vendor.as_uuid().into(),
            p.currency.code().into(),
            p.amount.into(),
            p.status.code().into(),
            p.method.clone().into(),
            p.reference.clone().into(),
            p.failure.clone().into(),
            p.created_at.into(),
            p.updated_at.into(),
        ],
    ))
    .await?;
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE tenant_id = $1 AND run_id = $2 \
             AND vendor_id = $3 AND currency = $4"
        ),
        [
            tx.tenant().as_uuid().into(),
            p.run.as_uuid().into(),
            p.vendor.as_uuid().into(),
            p.currency.code().into(),
        ],
    ))
    .await?
    .map(|r| payout_of(&r))
    .transpose()?
    .ok_or_else(|| DbErr::RecordNotFound("the payout just stored".into()))
}

pub async fn payout(tx: &TenantTx, id: PayoutId, lock: bool) -> Result<Option<Payout>, DbErr> {
    let lock = if lock { for_update(&**tx) } else { "" };
    tx.query_one_raw(statement(
        &**tx,
        &format!("SELECT {PAYOUT_COLUMNS} FROM payouts WHERE tenant_id = $1 AND id = $2{lock}"),
        [tx.tenant().as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .map(|r| payout_of(&r))
    .transpose()
}

/// The run's payouts still waiting for their provider (`pending`).
pub async fn pending_of_run(tx: &TenantTx, run: PayoutRunId) -> Result<Vec<Payout>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        &format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE tenant_id = $1 AND run_id = $2 \
             AND status = 'pending' ORDER BY id"
        ),
        [tx.tenant().as_uuid().into(), run.as_uuid().into()],
    ))
    .await?
    .iter()
    .map(payout_of)
    .collect()
}

/// Payouts newest first, of one vendor or all, of one run or all, after `after` (a cursor).
pub async fn payouts(
    tx: &TenantTx,
    vendor: Option<VendorId>,
    run: Option<PayoutRunId>,
    after: Option<PayoutId>,
    limit: u64,
) -> Result<Vec<Payout>, DbErr> {
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    let mut sql = format!("SELECT {PAYOUT_COLUMNS} FROM payouts WHERE tenant_id = $1");
    if let Some(v) = vendor {
        values.push(v.as_uuid().into());
        sql.push_str(&format!(" AND vendor_id = ${}", values.len()));
    }
    if let Some(r) = run {
        values.push(r.as_uuid().into());
        sql.push_str(&format!(" AND run_id = ${}", values.len()));
    }
    if let Some(a) = after {
        values.push(a.as_uuid().into());
        sql.push_str(&format!(" AND id < ${}", values.len()));
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT {}",
        limit.min(i64::MAX as u64)
    ));
    tx.query_all_raw(statement(&**tx, &sql, values))
        .await?
        .iter()
        .map(payout_of)
        .collect()
}

pub async fn set_payout_status(
    tx: &TenantTx,
    id: PayoutId,
    status: PayoutStatus,
    reference: Option<&str>,
    failure: Option<&str>,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "UPDATE payouts SET status = $3, reference = COALESCE($4, reference), failure = $5, \
         updated_at = $6 WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            status.code().into(),
            reference.map(str::to_owned).into(),
            failure.map(str::to_owned).into(),
            crate::now().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Fails paid payout `id` whose transfer was reversed, saying `failure`.
pub async fn set_reversed(tx: &TenantTx, id: PayoutId, failure: &str) -> Result<(), DbErr> {
    let now = crate::now();
    tx.execute_raw(statement(
        &**tx,
        "UPDATE payouts SET status = 'failed', failure = $3, reversed_at = $4, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2",
        [
            tx.tenant().as_uuid().into(),
            id.as_uuid().into(),
            failure.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The shop's payout by `method` whose provider reference is `reference` (a Stripe
/// transfer id), locked for update when `lock`.
pub async fn payout_by_reference(
    tx: &TenantTx,
    method: &str,
    reference: &str,
    lock: bool,
) -> Result<Option<Payout>, DbErr> {
    let lock = if lock { for_update(&**tx) } else { "" };
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE tenant_id = $1 AND reference = $2 \
             AND method = $3 ORDER BY id LIMIT 1{lock}"
        ),
        [
            tx.tenant().as_uuid().into(),
            reference.into(),
            method.into(),
        ],
    ))
    .await?
    .map(|r| payout_of(&r))
    .transpose()
}

/// Shops with a vendor on a schedule (not `manual`): the ones a scheduled run may be for.
pub async fn shops_with_schedules(db: &Db) -> Result<Vec<mercato_tenant_context::TenantId>, DbErr> {
    let tx = db.platform_read("payout schedules").await?;
    tx.query_all_raw(statement(
        &*tx,
        "SELECT DISTINCT tenant_id FROM payout_accounts WHERE schedule <> 'manual'",
        [],
    ))
    .await?
    .iter()
    .map(|r| col::<Uuid>(r, "tenant_id").map(mercato_tenant_context::TenantId::from_uuid))
    .collect()
}

// ---- the test provider's book -------------------------------------------------------------

/// Records a test transfer under `key` once; the transfer's id (the first one's, on a
/// retry with the same key).
pub async fn test_transfer(
    db: &Db,
    tenant: mercato_tenant_context::TenantId,
    key: &str,
    destination: &str,
    currency: Currency,
    amount: i64,
) -> Result<String, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    tx.execute_raw(statement(
        &*tx,
        "INSERT INTO test_transfers (tenant_id, idempotency_key, id, destination, currency, \
         amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        [
            tenant.as_uuid().into(),
            key.into(),
            format!("tr_test_{}", Uuid::now_v7().simple()).into(),
            destination.into(),
            currency.code().into(),
            amount.into(),
            crate::now().into(),
        ],
    ))
    .await?;
    let row = tx
        .query_one_raw(statement(
            &*tx,
            "SELECT id FROM test_transfers WHERE tenant_id = $1 AND idempotency_key = $2",
            [tenant.as_uuid().into(), key.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("test transfer".into()))?;
    let id = col::<String>(&row, "id")?;
    tx.commit().await?;
    Ok(id)
}

/// How many transfers the test provider made for the shop (what a test of "no double
/// payout" counts).
pub async fn test_transfer_count(
    db: &Db,
    tenant: mercato_tenant_context::TenantId,
) -> Result<i64, DbErr> {
    let tx = db.tenant_read(tenant).await?;
    let row = tx
        .query_one_raw(statement(
            &*tx,
            "SELECT COUNT(*) AS n FROM test_transfers WHERE tenant_id = $1",
            [tenant.as_uuid().into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    col(&row, "n")
}

// ---- retention ----------------------------------------------------------------------------

/// Sweeps published events, processed inbox records and finished jobs at start and hourly.
/// Earnings, payouts and runs are the vendors' money history: never purged.
pub async fn retention_worker(db: Db, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("payouts", Duration::from_secs(3600), shutdown, || async {
        let now = crate::now();
        let mut purged =
            mercato_events::purge_published(&db, now - mercato_events::KEEP_PUBLISHED).await?;
        purged +=
            mercato_events::purge_processed(&db, now - mercato_events::KEEP_PROCESSED).await?;
        purged += mercato_jobs::purge_finished(&db, now - mercato_jobs::KEEP_FINISHED).await?;
        Ok::<u64, DbErr>(purged)
    })
    .await;
}

// ---- payout items -----------------------------------------------------------------------

/// Records the vendor orders `payout` covers, in `tx` (the run's, which holds the vendor's
/// account row): every earning of its vendor and currency available at `now` that no other
/// payout covers yet (one still standing, or one paid and then reversed: its commission
/// invoice stands), with the commission kept on it less what refunds before now took back
/// (in the proportion `mercato_orders_api::money::share` gives).
pub async fn cover_earnings(
    tx: &TenantTx,
    payout: &Payout,
    now: DateTime<Utc>,
) -> Result<Vec<mercato_payouts_api::PayoutItem>, DbErr> {
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            "SELECT e.vendor_order_id, e.order_id, e.total, e.commission, e.refunded \
             FROM vendor_earnings e WHERE e.tenant_id = $1 AND e.vendor_id = $2 \
             AND e.currency = $3 AND e.available_at IS NOT NULL AND e.available_at <= $4 \
             AND NOT EXISTS (SELECT 1 FROM payout_items i JOIN payouts p \
                 ON p.tenant_id = i.tenant_id AND p.id = i.payout_id \
                 WHERE i.tenant_id = e.tenant_id AND i.vendor_order_id = e.vendor_order_id \
                 AND (p.status <> 'failed' OR p.reversed_at IS NOT NULL)) \
             ORDER BY e.vendor_order_id",
            [
                tx.tenant().as_uuid().into(),
                payout.vendor.as_uuid().into(),
                payout.currency.code().into(),
                now.into(),
            ],
        ))
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let (total, commission, refunded): (i64, i64, i64) = (
            col(row, "total")?,
            col(row, "commission")?,
            col(row, "refunded")?,
        );
        let taken_back = mercato_orders_api::money::share(commission, refunded.min(total), total);
        items.push(mercato_payouts_api::PayoutItem {
            vendor_order_id: VendorOrderId::from_uuid(col(row, "vendor_order_id")?),
            order_id: OrderId::from_uuid(col(row, "order_id")?),
            commission: commission - taken_back,
        });
    }
    const WIDTH: usize = 3;
    for chunk in items.chunks(500) {
        let mut values: Vec<Value> = Vec::with_capacity(2 + WIDTH * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        values.push(payout.id.as_uuid().into());
        for item in chunk {
            values.extend([
                item.vendor_order_id.as_uuid().into(),
                item.order_id.as_uuid().into(),
                item.commission.into(),
            ]);
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, $2, {})", placeholders(3 + WIDTH * i, WIDTH)))
            .collect();
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO payout_items (tenant_id, payout_id, vendor_order_id, order_id, \
                 commission) VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(items)
}

/// The vendor orders `payout` covers, in id order.
pub async fn payout_items(
    tx: &TenantTx,
    payout: PayoutId,
) -> Result<Vec<mercato_payouts_api::PayoutItem>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        "SELECT vendor_order_id, order_id, commission FROM payout_items \
         WHERE tenant_id = $1 AND payout_id = $2 ORDER BY vendor_order_id",
        [tx.tenant().as_uuid().into(), payout.as_uuid().into()],
    ))
    .await?
    .iter()
    .map(|row| {
        Ok(mercato_payouts_api::PayoutItem {
            vendor_order_id: VendorOrderId::from_uuid(col(row, "vendor_order_id")?),
            order_id: OrderId::from_uuid(col(row, "order_id")?),
            commission: col(row, "commission")?,
        })
    })
    .collect()
}
