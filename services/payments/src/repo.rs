//! The only place that queries the test provider's tables. They live in the database of the
//! service payments is linked into (orders), so their names carry a `test_provider_` prefix.
//! Every function takes a `TenantTx`: one shop's rows are all it can see.

use crate::provider::{BalanceTransaction, IntentStatus};
use crate::test_provider::{TestIntentId, TestRefundId};
use chrono::{DateTime, Utc};
use mercato_db::sql::statement;
use mercato_db::{Db, Migration, TenantTx};
use mercato_kernel::{Currency, Money};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, Set,
};

/// The payments schema. The host service must also have `mercato_jobs::JOBS_MIGRATION`
/// among its own migrations: the test provider enqueues its webhooks there.
pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "test provider intents and refunds",
        include_str!("../migrations/0001_payments.sql"),
        &["test_provider_intents", "test_provider_refunds"],
    ),
    Migration::portable(
        2,
        "test provider balance transactions, and how far each provider's were imported",
        include_str!("../migrations/0002_balance_transactions.sql"),
        &[
            "test_provider_balance_transactions",
            "provider_import_cursors",
        ],
    ),
];

/// Creates or updates the payments tables in `db` (under the migration service name
/// `payments`).
pub async fn migrate(db: &Db) -> Result<(), DbErr> {
    mercato_db::migrate(db, "payments", MIGRATIONS).await
}

pub mod entities {
    pub mod intent {
        use sea_orm::entity::prelude::*;

        /// A payment intent of the built-in test provider.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "test_provider_intents")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: Uuid,
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub idempotency_key: String,
            /// A hash of the request first made with the key, to refuse its reuse for another.
            pub fingerprint: String,
            pub order_ref: String,
            pub amount: i64,
            pub currency: String,
            /// The card's last four digits or the token; never a whole card number.
            pub payment_method: String,
            pub status: String,
            pub failure_code: Option<String>,
            pub failure_message: Option<String>,
            pub transfer_group: String,
            pub description: String,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod refund {
        use sea_orm::entity::prelude::*;

        /// A refund of a test provider intent.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "test_provider_refunds")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: Uuid,
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub intent_id: Uuid,
            pub idempotency_key: String,
            pub amount: i64,
            pub currency: String,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entities::{intent, refund};

/// A test provider intent as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntent {
    pub id: TestIntentId,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub order_ref: String,
    pub amount: Money,
    pub payment_method: String,
    pub status: IntentStatus,
    pub transfer_group: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A test provider refund as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefund {
    pub id: TestRefundId,
    pub intent: TestIntentId,
    pub idempotency_key: String,
    pub amount: Money,
    pub created_at: DateTime<Utc>,
}

/// A stored value the code cannot read: the schema's checks should make this impossible.
fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

fn money(amount: i64, currency: &str) -> Result<Money, DbErr> {
    let currency = Currency::parse(currency).map_err(|_| corrupt("currency", currency))?;
    Ok(Money::new(amount, currency))
}

fn status_columns(status: &IntentStatus) -> (String, Option<String>, Option<String>) {
    match status {
        IntentStatus::Failed { code, message } => (
            status.as_str().to_owned(),
            Some(code.clone()),
            Some(message.clone()),
        ),
        other => (other.as_str().to_owned(), None, None),
    }
}

fn intent_from_model(m: intent::Model) -> Result<StoredIntent, DbErr> {
    let status = match (m.status.as_str(), m.failure_code) {
        ("succeeded", _) => IntentStatus::Succeeded,
        ("processing", _) => IntentStatus::Processing,
        ("requires_action", _) => IntentStatus::RequiresAction,
        ("canceled", _) => IntentStatus::Canceled,
        ("failed", Some(code)) => IntentStatus::Failed {
            code,
            message: m.failure_message.unwrap_or_default(),
        },
        (other, _) => return Err(corrupt("intent status", other)),
    };
    Ok(StoredIntent {
        id: TestIntentId::from_uuid(m.id),
        amount: money(m.amount, &m.currency)?,
        idempotency_key: m.idempotency_key,
        fingerprint: m.fingerprint,
        order_ref: m.order_ref,
        payment_method: m.payment_method,
        status,
        transfer_group: m.transfer_group,
        description: m.description,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn refund_from_model(m: refund::Model) -> Result<StoredRefund, DbErr> {
    Ok(StoredRefund {
        id: TestRefundId::from_uuid(m.id),
        intent: TestIntentId::from_uuid(m.intent_id),
        amount: money(m.amount, &m.currency)?,
        idempotency_key: m.idempotency_key,
        created_at: m.created_at,
    })
}

/// Stores a new intent, unless the shop has an intent with its idempotency key already
/// (committed, or committed by a concurrent insert this one waited for): then `false`, and
/// nothing is written.
pub async fn insert_intent(tx: &TenantTx, i: &StoredIntent) -> Result<bool, DbErr> {
    let (status, failure_code, failure_message) = status_columns(&i.status);
    intent::Entity::insert(intent::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(i.id.as_uuid()),
        idempotency_key: Set(i.idempotency_key.clone()),
        fingerprint: Set(i.fingerprint.clone()),
        order_ref: Set(i.order_ref.clone()),
        amount: Set(i.amount.amount),
        currency: Set(i.amount.currency.code().to_owned()),
        payment_method: Set(i.payment_method.clone()),
        status: Set(status),
        failure_code: Set(failure_code),
        failure_message: Set(failure_message),
        transfer_group: Set(i.transfer_group.clone()),
        description: Set(i.description.clone()),
        created_at: Set(i.created_at),
        updated_at: Set(i.updated_at),
    })
    .on_conflict(
        OnConflict::columns([intent::Column::TenantId, intent::Column::IdempotencyKey])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&**tx)
    .await
    .map(|rows| rows == 1)
}

pub async fn find_intent(tx: &TenantTx, id: TestIntentId) -> Result<Option<StoredIntent>, DbErr> {
    intent::Entity::find()
        .filter(intent::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(intent::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(intent_from_model)
        .transpose()
}

/// The intent, locked for the rest of the transaction (a row lock on PostgreSQL; on SQLite
/// the write transaction already holds the database lock), so changes to one intent and
/// refunds of it run one after another.
pub async fn lock_intent(tx: &TenantTx, id: TestIntentId) -> Result<Option<StoredIntent>, DbErr> {
    intent::Entity::find()
        .filter(intent::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(intent::Column::Id.eq(id.as_uuid()))
        .lock_exclusive()
        .one(&**tx)
        .await?
        .map(intent_from_model)
        .transpose()
}

pub async fn find_intent_by_key(tx: &TenantTx, key: &str) -> Result<Option<StoredIntent>, DbErr> {
    intent::Entity::find()
        .filter(intent::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(intent::Column::IdempotencyKey.eq(key))
        .one(&**tx)
        .await?
        .map(intent_from_model)
        .transpose()
}

/// Moves an intent to `status`.
pub async fn set_intent_status(
    tx: &TenantTx,
    id: TestIntentId,
    status: &IntentStatus,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (status, failure_code, failure_message) = status_columns(status);
    intent::Entity::update_many()
        .col_expr(intent::Column::Status, Expr::value(status))
        .col_expr(intent::Column::FailureCode, Expr::value(failure_code))
        .col_expr(intent::Column::FailureMessage, Expr::value(failure_message))
        .col_expr(intent::Column::UpdatedAt, Expr::value(at))
        .filter(intent::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(intent::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// Stores a new refund; its idempotency key is unique in the shop.
pub async fn insert_refund(tx: &TenantTx, r: &StoredRefund) -> Result<(), DbErr> {
    refund::Entity::insert(refund::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(r.id.as_uuid()),
        intent_id: Set(r.intent.as_uuid()),
        idempotency_key: Set(r.idempotency_key.clone()),
        amount: Set(r.amount.amount),
        currency: Set(r.amount.currency.code().to_owned()),
        created_at: Set(r.created_at),
    })
    .exec_without_returning(&**tx)
    .await
    .map(|_| ())
}

pub async fn find_refund_by_key(tx: &TenantTx, key: &str) -> Result<Option<StoredRefund>, DbErr> {
    refund::Entity::find()
        .filter(refund::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refund::Column::IdempotencyKey.eq(key))
        .one(&**tx)
        .await?
        .map(refund_from_model)
        .transpose()
}

/// The refunds of one intent, oldest first.
pub async fn refunds_of(tx: &TenantTx, intent: TestIntentId) -> Result<Vec<StoredRefund>, DbErr> {
    refund::Entity::find()
        .filter(refund::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refund::Column::IntentId.eq(intent.as_uuid()))
        .order_by_asc(refund::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(refund_from_model)
        .collect()
}

/// Records one of the test provider's balance transactions.
pub async fn insert_balance_transaction(
    tx: &TenantTx,
    t: &BalanceTransaction,
) -> Result<(), DbErr> {
    let id =
        t.id.strip_prefix("txn_test_")
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .ok_or_else(|| corrupt("balance transaction id", &t.id))?;
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO test_provider_balance_transactions (tenant_id, id, kind, source, reference, \
         amount, fee, net, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [
            tx.tenant().as_uuid().into(),
            id.into(),
            t.kind.clone().into(),
            t.source.clone().into(),
            t.reference.clone().into(),
            t.amount.into(),
            t.fee.into(),
            t.net.into(),
            t.currency.code().into(),
            t.created.into(),
        ],
    ))
    .await
    .map(|_| ())
}

fn balance_transaction_from_row(row: &QueryResult) -> Result<BalanceTransaction, DbErr> {
    let id: uuid::Uuid = row.try_get("", "id")?;
    let currency: String = row.try_get("", "currency")?;
    Ok(BalanceTransaction {
        id: format!("txn_test_{}", id.simple()),
        kind: row.try_get("", "kind")?,
        source: row.try_get("", "source")?,
        reference: row.try_get("", "reference")?,
        amount: row.try_get("", "amount")?,
        fee: row.try_get("", "fee")?,
        net: row.try_get("", "net")?,
        currency: Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
        created: row.try_get("", "created_at")?,
    })
}

const BALANCE_COLUMNS: &str = "id, kind, source, reference, amount, fee, net, currency, created_at";

/// The balance transaction of `source` (an intent's charge, a refund), if there is one.
pub async fn balance_transaction_of(
    tx: &TenantTx,
    kind: &str,
    source: &str,
) -> Result<Option<BalanceTransaction>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        &format!(
            "SELECT {BALANCE_COLUMNS} FROM test_provider_balance_transactions \
             WHERE tenant_id = $1 AND kind = $2 AND source = $3"
        ),
        [tx.tenant().as_uuid().into(), kind.into(), source.into()],
    ))
    .await?
    .map(|row| balance_transaction_from_row(&row))
    .transpose()
}

/// The shop's balance transactions after `after` (in id order, which is the order they were
/// made in), at most `limit`.
pub async fn balance_transactions_after(
    tx: &TenantTx,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<BalanceTransaction>, DbErr> {
    tx.query_all_raw(statement(
        &**tx,
        &format!(
            "SELECT {BALANCE_COLUMNS} FROM test_provider_balance_transactions \
             WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT {limit}"
        ),
        [
            tx.tenant().as_uuid().into(),
            after.unwrap_or(uuid::Uuid::nil()).into(),
        ],
    ))
    .await?
    .iter()
    .map(balance_transaction_from_row)
    .collect()
}

/// How far `provider`'s balance transactions were imported for the shop (the provider's
/// reference of the last one taken).
pub async fn import_cursor(tx: &TenantTx, provider: &str) -> Result<Option<String>, DbErr> {
    tx.query_one_raw(statement(
        &**tx,
        "SELECT last_ref FROM provider_import_cursors WHERE tenant_id = $1 AND provider = $2",
        [tx.tenant().as_uuid().into(), provider.into()],
    ))
    .await?
    .map(|row| row.try_get("", "last_ref"))
    .transpose()
}

pub async fn save_import_cursor(
    tx: &TenantTx,
    provider: &str,
    last_ref: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO provider_import_cursors (tenant_id, provider, last_ref, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, provider) \
         DO UPDATE SET last_ref = excluded.last_ref, updated_at = excluded.updated_at",
        [
            tx.tenant().as_uuid().into(),
            provider.into(),
            last_ref.into(),
            at.into(),
        ],
    ))
    .await
    .map(|_| ())
}
