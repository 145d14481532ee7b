//! Reservations and their lines (one row per line and warehouse). Lists page by id.

use super::corrupt;
use super::entities::{reservation, reservation_line};
use crate::domain::reservation::{Allocation, Reservation, ReservedLine, Status};
use crate::domain::{ReservationId, WarehouseId};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::VariantId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::{BTreeMap, HashMap};

pub async fn insert(tx: &TenantTx, r: &Reservation) -> Result<(), DbErr> {
    reservation::Entity::insert(reservation::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(r.id.as_uuid()),
        status: Set(r.status.code().to_owned()),
        reference: Set(r.reference.clone()),
        created_by: Set(r.created_by.clone()),
        expires_at: Set(r.expires_at),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
        ended_at: Set(r.ended_at),
        ended_by: Set(r.ended_by.clone()),
    })
    .exec_without_returning(&**tx)
    .await?;
    let mut rows = Vec::new();
    for (line_no, line) in r.lines.iter().enumerate() {
        let line_no = i32::try_from(line_no).map_err(|_| DbErr::Custom("too many lines".into()))?;
        for allocation in &line.allocations {
            rows.push(reservation_line::ActiveModel {
                tenant_id: Set(tx.tenant().as_uuid()),
                reservation_id: Set(r.id.as_uuid()),
                line_no: Set(line_no),
                warehouse_id: Set(allocation.warehouse_id.as_uuid()),
                variant_id: Set(line.variant.as_uuid()),
                quantity: Set(allocation.quantity),
            });
        }
    }
    reservation_line::Entity::insert_many(rows)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// Ends an active reservation: sets its status and who ended it. Returns false when it was
/// no longer active (someone else ended it first).
pub async fn end(
    tx: &TenantTx,
    id: ReservationId,
    status: Status,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    end_many(tx, &[id], status, by, at).await
}

/// [`end`] for several reservations in one statement: false unless every one was active.
pub async fn end_many(
    tx: &TenantTx,
    ids: &[ReservationId],
    status: Status,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .col_expr(reservation::Column::Status, status.code().into())
        .col_expr(reservation::Column::EndedAt, Some(at).into())
        .col_expr(reservation::Column::EndedBy, Some(by.to_owned()).into())
        .col_expr(reservation::Column::UpdatedAt, at.into())
        .filter(reservation::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(reservation::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
        .filter(reservation::Column::Status.eq(Status::Active.code()))
        .exec(&**tx)
        .await?;
    Ok(usize::try_from(result.rows_affected).is_ok_and(|n| n == ids.len()))
}

fn assemble(
    m: reservation::Model,
    lines: Vec<reservation_line::Model>,
) -> Result<Reservation, DbErr> {
    let status =
        Status::parse(&m.status).ok_or_else(|| corrupt("reservation status", &m.status))?;
    let mut by_line: BTreeMap<i32, ReservedLine> = BTreeMap::new();
    for l in lines {
        let line = by_line.entry(l.line_no).or_insert_with(|| ReservedLine {
            variant: VariantId::from_uuid(l.variant_id),
            quantity: 0,
            allocations: Vec::new(),
        });
        line.quantity += l.quantity;
        line.allocations.push(Allocation {
            warehouse_id: WarehouseId::from_uuid(l.warehouse_id),
            quantity: l.quantity,
        });
    }
    // Within a line, the order the allocation took them: most units first.
    let lines = by_line
        .into_values()
        .map(|mut line| {
            line.allocations.sort_by(|a, b| {
                b.quantity
                    .cmp(&a.quantity)
                    .then(a.warehouse_id.cmp(&b.warehouse_id))
            });
            line
        })
        .collect();
    Ok(Reservation {
        id: ReservationId::from_uuid(m.id),
        status,
        reference: m.reference,
        created_by: m.created_by,
        lines,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        ended_at: m.ended_at,
        ended_by: m.ended_by,
    })
}

async fn lines_of(
    tx: &TenantTx,
    ids: &[uuid::Uuid],
) -> Result<BTreeMap<uuid::Uuid, Vec<reservation_line::Model>>, DbErr> {
    let mut by_reservation: BTreeMap<uuid::Uuid, Vec<reservation_line::Model>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(by_reservation);
    }
    let rows = reservation_line::Entity::find()
        .filter(reservation_line::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(reservation_line::Column::ReservationId.is_in(ids.iter().copied()))
        .order_by_asc(reservation_line::Column::ReservationId)
        .order_by_asc(reservation_line::Column::LineNo)
        .all(&**tx)
        .await?;
    for row in rows {
        by_reservation
            .entry(row.reservation_id)
            .or_default()
            .push(row);
    }
    Ok(by_reservation)
}

pub async fn find(tx: &TenantTx, id: ReservationId) -> Result<Option<Reservation>, DbErr> {
    Ok(find_many(tx, &[id]).await?.remove(&id))
}

/// Several reservations by id, with their lines, in two statements. Ids not found are
/// left out.
pub async fn find_many(
    tx: &TenantTx,
    ids: &[ReservationId],
) -> Result<HashMap<ReservationId, Reservation>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(ReservationId::as_uuid).collect();
    let found = reservation::Entity::find()
        .filter(reservation::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(reservation::Column::Id.is_in(ids.iter().copied()))
        .all(&**tx)
        .await?;
    let found_ids: Vec<uuid::Uuid> = found.iter().map(|m| m.id).collect();
    let mut lines = lines_of(tx, &found_ids).await?;
    let mut out = HashMap::with_capacity(found.len());
    for m in found {
        let own = lines.remove(&m.id).unwrap_or_default();
        let r = assemble(m, own)?;
        out.insert(r.id, r);
    }
    Ok(out)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only those this caller created (`None`: everyone's, for merchant staff).
    pub created_by: Option<String>,
    pub status: Option<Status>,
    pub reference: Option<String>,
}

pub async fn list(
    tx: &TenantTx,
    filter: &Filter,
    after: Option<ReservationId>,
    limit: u64,
) -> Result<Vec<Reservation>, DbErr> {
    let mut query = reservation::Entity::find()
        .filter(reservation::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(reservation::Column::Id)
        .limit(limit);
    if let Some(by) = &filter.created_by {
        query = query.filter(reservation::Column::CreatedBy.eq(by.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(reservation::Column::Status.eq(status.code()));
    }
    if let Some(reference) = &filter.reference {
        query = query.filter(reservation::Column::Reference.eq(reference.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(reservation::Column::Id.gt(after.as_uuid()));
    }
    let rows = query.all(&**tx).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|m| m.id).collect();
    let mut lines = lines_of(tx, &ids).await?;
    rows.into_iter()
        .map(|m| {
            let l = lines.remove(&m.id).unwrap_or_default();
            assemble(m, l)
        })
        .collect()
}

/// Up to `limit` active reservations whose time ran out at or before `now`, earliest first:
/// what the shop's expiry sweep expires (a range on `reservations_active_deadline`).
pub async fn due_to_expire(
    tx: &TenantTx,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<ReservationId>, DbErr> {
    let ids: Vec<uuid::Uuid> = reservation::Entity::find()
        .select_only()
        .column(reservation::Column::Id)
        .filter(reservation::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(reservation::Column::Status.eq(Status::Active.code()))
        .filter(reservation::Column::ExpiresAt.lte(now))
        .order_by_asc(reservation::Column::ExpiresAt)
        .order_by_asc(reservation::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(&**tx)
        .await?;
    Ok(ids.into_iter().map(ReservationId::from_uuid).collect())
}

/// When the shop's earliest active reservation runs out, if it has any: when its expiry
/// sweep must run next.
pub async fn next_deadline(tx: &TenantTx) -> Result<Option<DateTime<Utc>>, DbErr> {
    reservation::Entity::find()
        .select_only()
        .column(reservation::Column::ExpiresAt)
        .filter(reservation::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(reservation::Column::Status.eq(Status::Active.code()))
        .order_by_asc(reservation::Column::ExpiresAt)
        .limit(1)
        .into_tuple()
        .one(&**tx)
        .await
}
