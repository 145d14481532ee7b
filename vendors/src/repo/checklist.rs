//! A shop's checklist configuration and each vendor's progress on it.

use super::corrupt;
use super::entities::{checklist_item, vendor_checklist};
use crate::domain::checklist::{ChecklistItem, ItemKind, ItemState, default_items};
use mercato_db::TenantTx;
use mercato_tenant_context::VendorId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// The shop's checklist: its configured items, or the defaults if it configured none.
pub async fn items(tx: &TenantTx) -> Result<Vec<ChecklistItem>, DbErr> {
    let rows = checklist_item::Entity::find()
        .filter(checklist_item::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(checklist_item::Column::Position)
        .all(&**tx)
        .await?;
    if rows.is_empty() {
        return Ok(default_items());
    }
    rows.into_iter()
        .map(|m| {
            Ok(ChecklistItem {
                kind: ItemKind::parse(&m.kind).ok_or_else(|| corrupt("checklist kind", &m.kind))?,
                code: m.code,
                label: m.label,
                required: m.required,
            })
        })
        .collect()
}

/// Replaces the shop's checklist. Progress on removed items stays stored but no longer counts.
pub async fn replace(tx: &TenantTx, items: &[ChecklistItem]) -> Result<(), DbErr> {
    checklist_item::Entity::delete_many()
        .filter(checklist_item::Column::TenantId.eq(tx.tenant().as_uuid()))
        .exec(&**tx)
        .await?;
    if items.is_empty() {
        return Ok(());
    }
    let models = items
        .iter()
        .enumerate()
        .map(|(i, item)| checklist_item::ActiveModel {
            tenant_id: Set(tx.tenant().as_uuid()),
            code: Set(item.code.clone()),
            label: Set(item.label.clone()),
            kind: Set(item.kind.code().to_owned()),
            required: Set(item.required),
            position: Set(i as i32),
        });
    checklist_item::Entity::insert_many(models)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// A vendor's recorded progress on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemProgress {
    pub code: String,
    pub state: ItemState,
    pub value: Option<String>,
    pub document_key: Option<String>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_by: Option<String>,
    pub override_reason: Option<String>,
    pub overridden_by: Option<String>,
    pub overridden_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn progress(tx: &TenantTx, vendor: VendorId) -> Result<Vec<ItemProgress>, DbErr> {
    vendor_checklist::Entity::find()
        .filter(vendor_checklist::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor_checklist::Column::VendorId.eq(vendor.as_uuid()))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| {
            let state = match m.state.as_str() {
                "completed" => ItemState::Completed,
                "overridden" => ItemState::Overridden,
                other => return Err(corrupt("checklist state", other)),
            };
            Ok(ItemProgress {
                code: m.code,
                state,
                value: m.value,
                document_key: m.document_key,
                completed_at: m.completed_at,
                completed_by: m.completed_by,
                override_reason: m.override_reason,
                overridden_by: m.overridden_by,
                overridden_at: m.overridden_at,
            })
        })
        .collect()
}

/// Records the vendor's completion of an item. An earlier override stays recorded, but the
/// item now counts as completed by the vendor.
pub async fn complete(
    tx: &TenantTx,
    vendor: VendorId,
    code: &str,
    value: Option<String>,
    document_key: Option<String>,
    by: &str,
) -> Result<(), DbErr> {
    let model = vendor_checklist::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        vendor_id: Set(vendor.as_uuid()),
        code: Set(code.to_owned()),
        state: Set("completed".into()),
        value: Set(value),
        document_key: Set(document_key),
        completed_at: Set(Some(chrono::Utc::now())),
        completed_by: Set(Some(by.to_owned())),
        override_reason: Set(None),
        overridden_by: Set(None),
        overridden_at: Set(None),
    };
    use vendor_checklist::Column as C;
    vendor_checklist::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::VendorId, C::Code])
                .update_columns([
                    C::State,
                    C::Value,
                    C::DocumentKey,
                    C::CompletedAt,
                    C::CompletedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// Records the merchant's override of an item, keeping whatever the vendor had entered.
pub async fn override_item(
    tx: &TenantTx,
    vendor: VendorId,
    code: &str,
    reason: &str,
    by: &str,
) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    let model = vendor_checklist::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        vendor_id: Set(vendor.as_uuid()),
        code: Set(code.to_owned()),
        state: Set("overridden".into()),
        value: Set(None),
        document_key: Set(None),
        completed_at: Set(None),
        completed_by: Set(None),
        override_reason: Set(Some(reason.to_owned())),
        overridden_by: Set(Some(by.to_owned())),
        overridden_at: Set(Some(now)),
    };
    use vendor_checklist::Column as C;
    vendor_checklist::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::VendorId, C::Code])
                .update_columns([
                    C::State,
                    C::OverrideReason,
                    C::OverriddenBy,
                    C::OverriddenAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}
