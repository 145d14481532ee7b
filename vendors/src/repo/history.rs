//! A vendor's history: every lifecycle move, override and holiday change, with who and why.

use super::entities::history;
use mercato_db::TenantTx;
use mercato_tenant_context::VendorId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: uuid::Uuid,
    pub vendor: VendorId,
    /// `applied`, a lifecycle action, `checklist_overridden`, `holiday_set`, …
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    /// `usr_…`, `key_…`.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub async fn record(tx: &TenantTx, entry: &HistoryEntry) -> Result<(), DbErr> {
    let model = history::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(entry.id),
        vendor_id: Set(entry.vendor.as_uuid()),
        action: Set(entry.action.clone()),
        from_status: Set(entry.from_status.clone()),
        to_status: Set(entry.to_status.clone()),
        reason: Set(entry.reason.clone()),
        actor: Set(entry.actor.clone()),
        at: Set(entry.at),
    };
    history::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn list(
    tx: &TenantTx,
    vendor: VendorId,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<HistoryEntry>, DbErr> {
    let mut query = history::Entity::find()
        .filter(history::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(history::Column::VendorId.eq(vendor.as_uuid()))
        .order_by_asc(history::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(history::Column::Id.gt(after));
    }
    Ok(query
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| HistoryEntry {
            id: m.id,
            vendor: VendorId::from_uuid(m.vendor_id),
            action: m.action,
            from_status: m.from_status,
            to_status: m.to_status,
            reason: m.reason,
            actor: m.actor,
            at: m.at,
        })
        .collect())
}
