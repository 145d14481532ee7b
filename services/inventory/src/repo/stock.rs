//! Stock levels per warehouse and variant, and the adjustment history.
//!
//! Levels change only through [`change_level`], a relative update guarded by the schema's
//! own rule (`0 <= reserved <= on_hand`): even a caller that read a stale level cannot
//! oversell or take on hand below what is reserved.

use super::entities::{adjustment, stock_level};
use super::{corrupt, for_update, placeholders, statement};
use crate::domain::reservation::Candidate;
use crate::domain::stock::{Level, Reason, Totals};
use crate::domain::{AdjustmentId, ReservationId, WarehouseId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{VariantId, VendorId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// A level with where it is and when it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredLevel {
    pub warehouse: WarehouseId,
    pub variant: VariantId,
    pub level: Level,
    pub updated_at: DateTime<Utc>,
}

fn stored(m: stock_level::Model) -> StoredLevel {
    StoredLevel {
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        variant: VariantId::from_uuid(m.variant_id),
        level: Level {
            on_hand: m.on_hand,
            reserved: m.reserved,
        },
        updated_at: m.updated_at,
    }
}

/// Makes sure the level row exists (empty if new), so it can be locked and changed.
pub async fn ensure_level(
    tx: &TenantTx,
    warehouse: WarehouseId,
    variant: VariantId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    stock_level::Entity::insert(stock_level::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        warehouse_id: Set(warehouse.as_uuid()),
        variant_id: Set(variant.as_uuid()),
        on_hand: Set(0),
        reserved: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            stock_level::Column::TenantId,
            stock_level::Column::WarehouseId,
            stock_level::Column::VariantId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&**tx)
    .await
    .map(|_| ())
}

/// One level, locked until the transaction ends on PostgreSQL.
pub async fn lock_level(
    tx: &TenantTx,
    warehouse: WarehouseId,
    variant: VariantId,
) -> Result<Option<Level>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT on_hand, reserved FROM stock_levels \
                 WHERE tenant_id = $1 AND warehouse_id = $2 AND variant_id = $3{}",
                for_update(&**tx)
            ),
            [
                tx.tenant().as_uuid().into(),
                warehouse.as_uuid().into(),
                variant.as_uuid().into(),
            ],
        ))
        .await?;
    row.map(|row| {
        Ok(Level {
            on_hand: row.try_get("", "on_hand")?,
            reserved: row.try_get("", "reserved")?,
        })
    })
    .transpose()
}

/// Moves on hand and reserved by the given amounts, unless that would break
/// `0 <= reserved <= on_hand`; returns the new level, or `None` when refused.
pub async fn change_level(
    tx: &TenantTx,
    warehouse: WarehouseId,
    variant: VariantId,
    on_hand_delta: i64,
    reserved_delta: i64,
    now: DateTime<Utc>,
) -> Result<Option<Level>, DbErr> {
    let changed = change_levels(
        tx,
        &[(warehouse, variant, on_hand_delta, reserved_delta)],
        now,
    )
    .await?;
    Ok(changed.and_then(|levels| levels.into_iter().next()))
}

/// [`change_level`] for several levels at once, in one statement: `(warehouse, variant,
/// on-hand delta, reserved delta)`, each level at most once. `None` when any of them is
/// refused (missing, or its guard fails); the caller then rolls back.
pub async fn change_levels(
    tx: &TenantTx,
    changes: &[(WarehouseId, VariantId, i64, i64)],
    now: DateTime<Utc>,
) -> Result<Option<Vec<Level>>, DbErr> {
    if changes.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut values = vec![tx.tenant().as_uuid().into(), now.into()];
    for (warehouse, variant, on_hand, reserved) in changes {
        values.extend([
            warehouse.as_uuid().into(),
            variant.as_uuid().into(),
            (*on_hand).into(),
            (*reserved).into(),
        ]);
    }
    // The deltas as a table `d`, joined to their levels; the guard is `change_level`'s.
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "WITH d (warehouse_id, variant_id, on_hand_delta, reserved_delta) AS (VALUES {}) \
                 UPDATE stock_levels SET on_hand = stock_levels.on_hand + d.on_hand_delta, \
                   reserved = stock_levels.reserved + d.reserved_delta, updated_at = $2 \
                 FROM d WHERE stock_levels.tenant_id = $1 \
                   AND stock_levels.warehouse_id = d.warehouse_id \
                   AND stock_levels.variant_id = d.variant_id \
                   AND stock_levels.reserved + d.reserved_delta >= 0 \
                   AND stock_levels.on_hand + d.on_hand_delta >= stock_levels.reserved + d.reserved_delta \
                 RETURNING stock_levels.warehouse_id AS warehouse_id, \
                   stock_levels.variant_id AS variant_id, stock_levels.on_hand AS on_hand, \
                   stock_levels.reserved AS reserved",
                super::value_rows(3, changes.len(), 4)
            ),
            values,
        ))
        .await?;
    if rows.len() != changes.len() {
        return Ok(None);
    }
    let mut levels: HashMap<(uuid::Uuid, uuid::Uuid), Level> = HashMap::with_capacity(rows.len());
    for row in rows {
        levels.insert(
            (
                row.try_get("", "warehouse_id")?,
                row.try_get("", "variant_id")?,
            ),
            Level {
                on_hand: row.try_get("", "on_hand")?,
                reserved: row.try_get("", "reserved")?,
            },
        );
    }
    Ok(changes
        .iter()
        .map(|(w, v, _, _)| levels.get(&(w.as_uuid(), v.as_uuid())).copied())
        .collect())
}

/// The levels reservations may draw on for `variants`: in active warehouses of each
/// variant's own vendor, with units available.
pub async fn candidates(
    tx: &TenantTx,
    variants: &[VariantId],
) -> Result<HashMap<VariantId, Vec<Candidate>>, DbErr> {
    let mut found: HashMap<VariantId, Vec<Candidate>> = HashMap::new();
    if variants.is_empty() {
        return Ok(found);
    }
    let sql = format!(
        "SELECT s.warehouse_id, s.variant_id, s.on_hand, s.reserved FROM stock_levels s \
         JOIN warehouses w ON w.tenant_id = s.tenant_id AND w.id = s.warehouse_id \
         JOIN variants v ON v.tenant_id = s.tenant_id AND v.id = s.variant_id \
         WHERE s.tenant_id = $1 AND w.active AND w.vendor_id = v.vendor_id \
           AND s.on_hand > s.reserved AND s.variant_id IN ({}) \
         ORDER BY s.variant_id, s.warehouse_id",
        placeholders(2, variants.len())
    );
    let mut values = vec![tx.tenant().as_uuid().into()];
    values.extend(variants.iter().map(|v| v.as_uuid().into()));
    for row in tx.query_all_raw(statement(&**tx, &sql, values)).await? {
        let variant = VariantId::from_uuid(row.try_get("", "variant_id")?);
        found.entry(variant).or_default().push(Candidate {
            warehouse: WarehouseId::from_uuid(row.try_get("", "warehouse_id")?),
            level: Level {
                on_hand: row.try_get("", "on_hand")?,
                reserved: row.try_get("", "reserved")?,
            },
        });
    }
    Ok(found)
}

/// A variant's stock over its vendor's warehouses (see [`Totals`]).
pub async fn totals(tx: &TenantTx, variant: VariantId, vendor: VendorId) -> Result<Totals, DbErr> {
    let totals = totals_of(tx, &[(variant, vendor)]).await?;
    Ok(totals.get(&variant).copied().unwrap_or_default())
}

/// [`totals`] of several variants (each with its vendor), in one statement. A variant
/// without levels has none of anything.
pub async fn totals_of(
    tx: &TenantTx,
    variants: &[(VariantId, VendorId)],
) -> Result<HashMap<VariantId, Totals>, DbErr> {
    let mut out: HashMap<VariantId, Totals> = variants
        .iter()
        .map(|(v, _)| (*v, Totals::default()))
        .collect();
    if variants.is_empty() {
        return Ok(out);
    }
    let mut values = vec![tx.tenant().as_uuid().into()];
    for (variant, vendor) in variants {
        values.extend([variant.as_uuid().into(), vendor.as_uuid().into()]);
    }
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "WITH q (variant_id, vendor_id) AS (VALUES {}) \
                 SELECT s.variant_id AS variant_id, \
                    CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT) AS on_hand, \
                    CAST(COALESCE(SUM(s.reserved), 0) AS BIGINT) AS reserved, \
                    CAST(COALESCE(SUM(CASE WHEN w.active THEN s.on_hand - s.reserved ELSE 0 END), 0) AS BIGINT) AS available \
                 FROM q \
                 JOIN stock_levels s ON s.tenant_id = $1 AND s.variant_id = q.variant_id \
                 JOIN warehouses w ON w.tenant_id = s.tenant_id AND w.id = s.warehouse_id \
                   AND w.vendor_id = q.vendor_id \
                 GROUP BY s.variant_id",
                super::value_rows(2, variants.len(), 2)
            ),
            values,
        ))
        .await?;
    for row in rows {
        let variant = VariantId::from_uuid(row.try_get("", "variant_id")?);
        out.insert(
            variant,
            Totals {
                on_hand: row.try_get("", "on_hand")?,
                reserved: row.try_get("", "reserved")?,
                available: row.try_get("", "available")?,
            },
        );
    }
    Ok(out)
}

/// A page of a warehouse's levels, by variant id.
pub async fn in_warehouse(
    tx: &TenantTx,
    warehouse: WarehouseId,
    after: Option<VariantId>,
    limit: u64,
) -> Result<Vec<StoredLevel>, DbErr> {
    let mut query = stock_level::Entity::find()
        .filter(stock_level::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock_level::Column::WarehouseId.eq(warehouse.as_uuid()))
        .order_by_asc(stock_level::Column::VariantId)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(stock_level::Column::VariantId.gt(after.as_uuid()));
    }
    Ok(query.all(&**tx).await?.into_iter().map(stored).collect())
}

/// Every variant stocked in a warehouse (for a change that affects all of them).
pub async fn variants_in_warehouse(
    tx: &TenantTx,
    warehouse: WarehouseId,
) -> Result<Vec<VariantId>, DbErr> {
    Ok(stock_level::Entity::find()
        .filter(stock_level::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock_level::Column::WarehouseId.eq(warehouse.as_uuid()))
        .order_by_asc(stock_level::Column::VariantId)
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| VariantId::from_uuid(m.variant_id))
        .collect())
}

/// A variant's levels in every warehouse, by warehouse id.
pub async fn of_variant(tx: &TenantTx, variant: VariantId) -> Result<Vec<StoredLevel>, DbErr> {
    Ok(stock_level::Entity::find()
        .filter(stock_level::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock_level::Column::VariantId.eq(variant.as_uuid()))
        .order_by_asc(stock_level::Column::WarehouseId)
        .all(&**tx)
        .await?
        .into_iter()
        .map(stored)
        .collect())
}

/// One change of on hand, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub id: AdjustmentId,
    pub warehouse: WarehouseId,
    pub variant: VariantId,
    pub delta: i64,
    pub reason: Reason,
    pub note: Option<String>,
    pub on_hand_after: i64,
    /// The reservation a `sold` adjustment committed, or a `returned` one restocked (a
    /// cancelled or refunded order).
    pub reservation: Option<ReservationId>,
    /// `usr_…`, `key_…`, `svc_orders` (paid, cancelled and refunded orders), or `system` for
    /// the expiry job.
    pub actor: String,
    pub at: DateTime<Utc>,
}

pub async fn record(tx: &TenantTx, a: &Adjustment) -> Result<(), DbErr> {
    record_all(tx, std::slice::from_ref(a)).await
}

/// Records several adjustments in one statement.
pub async fn record_all(tx: &TenantTx, all: &[Adjustment]) -> Result<(), DbErr> {
    if all.is_empty() {
        return Ok(());
    }
    adjustment::Entity::insert_many(all.iter().map(|a| adjustment::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(a.id.as_uuid()),
        warehouse_id: Set(a.warehouse.as_uuid()),
        variant_id: Set(a.variant.as_uuid()),
        delta: Set(a.delta),
        reason: Set(a.reason.code().to_owned()),
        note: Set(a.note.clone()),
        on_hand_after: Set(a.on_hand_after),
        reservation_id: Set(a.reservation.map(|r| r.as_uuid())),
        actor: Set(a.actor.clone()),
        at: Set(a.at),
    }))
    .exec_without_returning(&**tx)
    .await
    .map(|_| ())
}

/// What restocks of `reservation` put back so far, per (warehouse, variant).
pub async fn returned_for(
    tx: &TenantTx,
    reservation: ReservationId,
) -> Result<HashMap<(WarehouseId, VariantId), i64>, DbErr> {
    let rows = adjustment::Entity::find()
        .filter(adjustment::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(adjustment::Column::ReservationId.eq(reservation.as_uuid()))
        .filter(adjustment::Column::Reason.eq(Reason::Returned.code()))
        .all(&**tx)
        .await?;
    let mut returned: HashMap<(WarehouseId, VariantId), i64> = HashMap::new();
    for m in rows {
        *returned
            .entry((
                WarehouseId::from_uuid(m.warehouse_id),
                VariantId::from_uuid(m.variant_id),
            ))
            .or_default() += m.delta;
    }
    Ok(returned)
}

/// A page of a warehouse's history (of one variant when given), newest first, before
/// `before`.
pub async fn history(
    tx: &TenantTx,
    warehouse: WarehouseId,
    variant: Option<VariantId>,
    before: Option<AdjustmentId>,
    limit: u64,
) -> Result<Vec<Adjustment>, DbErr> {
    let mut query = adjustment::Entity::find()
        .filter(adjustment::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(adjustment::Column::WarehouseId.eq(warehouse.as_uuid()))
        .order_by_desc(adjustment::Column::Id)
        .limit(limit);
    if let Some(variant) = variant {
        query = query.filter(adjustment::Column::VariantId.eq(variant.as_uuid()));
    }
    if let Some(before) = before {
        query = query.filter(adjustment::Column::Id.lt(before.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Adjustment {
                id: AdjustmentId::from_uuid(m.id),
                warehouse: WarehouseId::from_uuid(m.warehouse_id),
                variant: VariantId::from_uuid(m.variant_id),
                delta: m.delta,
                reason: Reason::parse(&m.reason)
                    .ok_or_else(|| corrupt("adjustment reason", &m.reason))?,
                note: m.note,
                on_hand_after: m.on_hand_after,
                reservation: m.reservation_id.map(ReservationId::from_uuid),
                actor: m.actor,
                at: m.at,
            })
        })
        .collect()
}
