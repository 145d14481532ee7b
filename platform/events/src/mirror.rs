//! Mirrors: a consumer's copy of another service's data, kept from that service's events.
//!
//! A consumer declares the table ([`MirrorTable`]: its key, its version column, the columns
//! it copies) and how an event of the owner's contract becomes rows ([`Mirror::change`]).
//! [`Mirrored`] does the rest, the same way for every mirror:
//!
//! - each event is recorded in the inbox in the transaction that applies it, so a
//!   redelivery changes nothing ([`crate::mark_processed_all`]);
//! - a row is written only when the event is at least as new as the row's version, so an
//!   event delivered late never rolls a row back;
//! - a burst of events of one shop is applied in one transaction: one inbox statement, one
//!   multi-row upsert per 500 rows (only each key's latest row), and the retirements;
//! - a hook before and after the write ([`Mirror::before`], [`Mirror::after`]) lets a
//!   consumer lock what it must or react in the same transaction (publish its own events).
//!
//! Deletions are tombstones: a row the owner deleted stays with a flag the consumer maps
//! (`deleted`, `visible = false`), so an older event delivered after the deletion cannot
//! bring it back. A consumer that has nothing yet (a new deployment, a table rebuilt) asks
//! the owner to republish its current state: `mercato events republish <service>`.

use crate::{Envelope, Handler, HandlerError, Subscription, by_tenant, mark_processed_all};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_db::sql::{placeholders, statement};
use mercato_db::{Db, TenantTx};
use sea_orm::{ConnectionTrait, DbErr, Value};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use uuid::Uuid;

/// A mirror table as its consumer declares it. Its primary key is `(tenant_id, key)`.
#[derive(Debug, Clone, Copy)]
pub struct MirrorTable {
    pub name: &'static str,
    /// The column of the row's id (a UUID of the owner's).
    pub key: &'static str,
    /// The column of when the event the row reflects happened (`TIMESTAMPTZ`).
    pub version: &'static str,
    /// The columns an event sets, in the order of [`MirrorRow::values`].
    pub columns: &'static [&'static str],
    /// Columns of the consumer's own that a new row starts with and events never change
    /// (`("low_stock", "FALSE")`): SQL literals.
    pub on_insert: &'static [(&'static str, &'static str)],
}

/// One row of a mirror table, as an event describes it.
pub trait MirrorRow: Send + Sync {
    /// The value of [`MirrorTable::key`].
    fn key(&self) -> Uuid;
    /// The values of [`MirrorTable::columns`], in their order.
    fn values(&self) -> Vec<Value>;
}

/// An event's rows describe a whole group (a product's variants): the group's other rows,
/// as old as the event or older, are retired with `set` (`"visible = FALSE"`).
#[derive(Debug, Clone)]
pub struct Retire {
    /// The group's column (a UUID).
    pub column: &'static str,
    pub group: Uuid,
    /// SQL assignments that retire a row.
    pub set: &'static str,
}

/// What one event says of the table.
pub struct MirrorChange<R> {
    pub rows: Vec<R>,
    pub retire: Option<Retire>,
}

impl<R> MirrorChange<R> {
    pub fn rows(rows: Vec<R>) -> Self {
        Self { rows, retire: None }
    }

    pub fn row(row: R) -> Self {
        Self::rows(vec![row])
    }
}

/// A consumer's mirror of one owner's events. See the module.
#[async_trait]
pub trait Mirror: Send + Sync + 'static {
    /// The owner's contract payload.
    type Event: DeserializeOwned + Send;
    type Row: MirrorRow;
    /// What [`Mirror::before`] learns for [`Mirror::after`].
    type Before: Default + Send;

    const TABLE: MirrorTable;

    /// Whether `event` (one the subscription's patterns matched) is mirrored at all; one
    /// that is not is left out of the inbox too.
    fn wants(&self, event: &Envelope) -> bool {
        let _ = event;
        true
    }

    /// The rows `payload` (of `event`) describes. An error dead-letters the event.
    fn change(
        &self,
        event: &Envelope,
        payload: Self::Event,
    ) -> Result<MirrorChange<Self::Row>, HandlerError>;

    /// Runs in the transaction before anything is written, with the rows about to be
    /// (each key's latest) and the retirements: to lock rows in a fixed order, or to read
    /// what [`Mirror::after`] compares with.
    async fn before(
        &self,
        tx: &TenantTx,
        rows: &[&Self::Row],
        retire: &[Retire],
    ) -> Result<Self::Before, DbErr> {
        let _ = (tx, rows, retire);
        Ok(Self::Before::default())
    }

    /// Runs in the transaction after the write, with the rows that were written (those
    /// older than the stored row were not). Returns whether it wrote to the outbox, so the
    /// relay is woken after the commit.
    async fn after(
        &self,
        tx: &TenantTx,
        before: Self::Before,
        written: &[&Self::Row],
    ) -> Result<bool, DbErr> {
        let _ = (tx, before, written);
        Ok(false)
    }
}

/// A [`Mirror`] as a durable consumer of the bus.
pub struct Mirrored<M> {
    consumer: &'static str,
    db: Db,
    mirror: M,
    /// Woken when [`Mirror::after`] published.
    outbox: Option<Arc<tokio::sync::Notify>>,
}

impl<M: Mirror> Mirrored<M> {
    pub fn new(consumer: &'static str, db: Db, mirror: M) -> Self {
        Self {
            consumer,
            db,
            mirror,
            outbox: None,
        }
    }

    /// Wakes `outbox` (the service's relay) after a transaction in which
    /// [`Mirror::after`] published.
    pub fn waking(mut self, outbox: Arc<tokio::sync::Notify>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The subscription of this mirror to `patterns`.
    pub fn subscribe(self, patterns: &'static [&'static str]) -> Subscription {
        Subscription {
            consumer: self.consumer,
            patterns,
            handler: Arc::new(self),
        }
    }

    /// Applies `events` (one shop's, in delivery order) in `tx`. Returns whether the
    /// mirror's hook published.
    pub async fn apply(&self, tx: &TenantTx, events: &[&Envelope]) -> Result<bool, HandlerError> {
        self.apply_wanted(tx, &self.wanted(events)).await
    }

    /// The events of `events` the mirror wants, in order.
    fn wanted<'e>(&self, events: &[&'e Envelope]) -> Vec<&'e Envelope> {
        events
            .iter()
            .copied()
            .filter(|e| self.mirror.wants(e))
            .collect()
    }

    /// [`apply`](Self::apply) to events the mirror wants.
    async fn apply_wanted(
        &self,
        tx: &TenantTx,
        wanted: &[&Envelope],
    ) -> Result<bool, HandlerError> {
        if wanted.is_empty() {
            return Ok(false);
        }
        // Every payload is read before anything is written: a bad one fails the batch.
        let payloads = wanted
            .iter()
            .map(|e| e.payload_as::<M::Event>())
            .collect::<Result<Vec<_>, _>>()?;
        let new = mark_processed_all(&**tx, self.consumer, wanted).await?;
        let mut latest: HashMap<Uuid, (DateTime<Utc>, M::Row)> = HashMap::new();
        let mut retire = Vec::new();
        for ((event, payload), new) in wanted.iter().zip(payloads).zip(new) {
            if !new {
                continue;
            }
            let change = self.mirror.change(event, payload)?;
            let at = event.occurred_at;
            if let Some(r) = change.retire {
                let keep: Vec<Uuid> = change.rows.iter().map(MirrorRow::key).collect();
                retire.push((r, keep, at));
            }
            for row in change.rows {
                // Each key's latest, and of equally late ones the last delivered: what
                // applying them one by one would leave.
                match latest.entry(row.key()) {
                    Entry::Occupied(kept) if kept.get().0 > at => {}
                    Entry::Occupied(mut kept) => {
                        kept.insert((at, row));
                    }
                    Entry::Vacant(slot) => {
                        slot.insert((at, row));
                    }
                }
            }
        }
        // In key order, so concurrent batches lock the rows they share in the same order.
        let mut rows: Vec<(Uuid, DateTime<Utc>, M::Row)> = latest
            .into_iter()
            .map(|(key, (at, row))| (key, at, row))
            .collect();
        rows.sort_unstable_by_key(|(key, _, _)| *key);
        let retirements: Vec<Retire> = retire.iter().map(|(r, _, _)| r.clone()).collect();
        if rows.is_empty() && retirements.is_empty() {
            return Ok(false);
        }
        let row_refs: Vec<&M::Row> = rows.iter().map(|(_, _, row)| row).collect();
        let before = self.mirror.before(tx, &row_refs, &retirements).await?;
        let written = upsert(tx, &M::TABLE, &rows).await?;
        for (r, keep, at) in &retire {
            retire_others(tx, &M::TABLE, r, keep, *at).await?;
        }
        let written: Vec<&M::Row> = rows
            .iter()
            .filter(|(key, _, _)| written.contains(key))
            .map(|(_, _, row)| row)
            .collect();
        Ok(self.mirror.after(tx, before, &written).await?)
    }
}

#[async_trait]
impl<M: Mirror> Handler for Mirrored<M> {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    /// One transaction per shop of the burst.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        let mut published = false;
        for (tenant, events) in by_tenant(events) {
            let wanted = self.wanted(&events);
            if wanted.is_empty() {
                continue;
            }
            let tx = self.db.tenant_tx(tenant).await?;
            published |= self.apply_wanted(&tx, &wanted).await?;
            tx.commit().await?;
        }
        if published && let Some(outbox) = &self.outbox {
            outbox.notify_one();
        }
        Ok(())
    }
}

/// Keeps each statement's bind values (tenant + key + version + columns a row) well below
/// SQLite's 32766 and PostgreSQL's 65535, and at most 500 rows.
fn rows_per_statement(table: &MirrorTable) -> usize {
    (30_000 / (2 + table.columns.len())).clamp(1, 500)
}

/// Upserts `rows` (distinct keys) unless the stored row is newer. Returns the keys written.
async fn upsert<R: MirrorRow>(
    tx: &TenantTx,
    table: &MirrorTable,
    rows: &[(Uuid, DateTime<Utc>, R)],
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    let mut written = std::collections::HashSet::with_capacity(rows.len());
    let width = 2 + table.columns.len();
    let literals: String = table
        .on_insert
        .iter()
        .map(|(_, literal)| format!(", {literal}"))
        .collect();
    let mut columns = vec![table.key, table.version];
    columns.extend(table.columns);
    columns.extend(table.on_insert.iter().map(|(column, _)| *column));
    let updates: Vec<String> = std::iter::once(table.version)
        .chain(table.columns.iter().copied())
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for chunk in rows.chunks(rows_per_statement(table)) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + width * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        let mut tuples = Vec::with_capacity(chunk.len());
        for (key, at, row) in chunk {
            tuples.push(format!(
                "($1, {}{literals})",
                placeholders(values.len() + 1, width)
            ));
            let fields = row.values();
            debug_assert_eq!(fields.len(), table.columns.len(), "{}", table.name);
            values.push((*key).into());
            values.push((*at).into());
            values.extend(fields);
        }
        let sql = format!(
            "INSERT INTO {t} (tenant_id, {columns}) VALUES {tuples} \
             ON CONFLICT (tenant_id, {key}) DO UPDATE SET {updates} \
             WHERE {t}.{version} <= excluded.{version} RETURNING {key}",
            t = table.name,
            columns = columns.join(", "),
            tuples = tuples.join(", "),
            key = table.key,
            updates = updates.join(", "),
            version = table.version,
        );
        for row in tx.query_all_raw(statement(&**tx, &sql, values)).await? {
            written.insert(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    Ok(written)
}

/// Retires the rows of `r`'s group other than `keep` that are no newer than `at`.
async fn retire_others(
    tx: &TenantTx,
    table: &MirrorTable,
    r: &Retire,
    keep: &[Uuid],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into(), r.group.into(), at.into()];
    let not_in = if keep.is_empty() {
        String::new()
    } else {
        format!(
            " AND {} NOT IN ({})",
            table.key,
            placeholders(4, keep.len())
        )
    };
    values.extend(keep.iter().map(|k| Value::from(*k)));
    let sql = format!(
        "UPDATE {t} SET {set}, {version} = $3 \
         WHERE tenant_id = $1 AND {group} = $2 AND {version} <= $3{not_in}",
        t = table.name,
        set = r.set,
        version = table.version,
        group = r.column,
    );
    tx.execute_raw(statement(&**tx, &sql, values)).await?;
    Ok(())
}
