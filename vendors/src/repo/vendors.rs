//! Vendors. Lists page by id (UUIDv7, so oldest first).

use super::corrupt;
use super::entities::vendor;
use crate::domain::vendor::{Address, LegalAddress, StoreProfile};
use crate::domain::{Shipping, Vendor, VendorStatus};
use mercato_db::{RowLock, TenantTx};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{TenantId, UserId, VendorId};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Money kept as an amount and a currency column: both or neither.
fn money(what: &str, amount: Option<i64>, currency: Option<&str>) -> Result<Option<Money>, DbErr> {
    match (amount, currency) {
        (Some(amount), Some(code)) => Ok(Some(Money::new(
            amount,
            Currency::parse(code).map_err(|_| corrupt(what, code))?,
        ))),
        (None, None) => Ok(None),
        _ => Err(corrupt(what, "amount without currency")),
    }
}

fn from_model(m: vendor::Model) -> Result<Vendor, DbErr> {
    let status =
        VendorStatus::parse(&m.status).ok_or_else(|| corrupt("vendor status", &m.status))?;
    let return_address = match m.return_address {
        Some(json) => Some(
            serde_json::from_value::<Address>(json)
                .map_err(|e| DbErr::Json(format!("stored return address: {e}")))?,
        ),
        None => None,
    };
    let legal_address = match m.legal_address {
        Some(json) => Some(
            serde_json::from_value::<LegalAddress>(json)
                .map_err(|e| DbErr::Json(format!("stored legal address: {e}")))?,
        ),
        None => None,
    };
    Ok(Vendor {
        id: VendorId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        slug: m.slug,
        store_name: m.store_name,
        legal_entity: m.legal_entity,
        country: m.country,
        contact_email: m.contact_email,
        contact_phone: m.contact_phone,
        owner: UserId::from_uuid(m.owner_user_id),
        status,
        status_reason: m.status_reason,
        holiday_until: m.holiday_until,
        profile: StoreProfile {
            description: m.description,
            policies: m.policies,
            return_address,
            logo_key: m.logo_key,
            banner_key: m.banner_key,
        },
        shipping: Shipping {
            flat_rate: money(
                "shipping flat rate",
                m.shipping_flat_rate_amount,
                m.shipping_flat_rate_currency.as_deref(),
            )?,
            free_over: money(
                "free shipping threshold",
                m.free_shipping_over_amount,
                m.free_shipping_over_currency.as_deref(),
            )?,
        },
        legal_address,
        vat_id: m.vat_id,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_model(tx: &TenantTx, v: &Vendor) -> Result<vendor::ActiveModel, DbErr> {
    let return_address = match &v.profile.return_address {
        Some(address) => {
            Some(serde_json::to_value(address).map_err(|e| DbErr::Json(e.to_string()))?)
        }
        None => None,
    };
    let legal_address = match &v.legal_address {
        Some(address) => {
            Some(serde_json::to_value(address).map_err(|e| DbErr::Json(e.to_string()))?)
        }
        None => None,
    };
    Ok(vendor::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(v.id.as_uuid()),
        slug: Set(v.slug.clone()),
        store_name: Set(v.store_name.clone()),
        legal_entity: Set(v.legal_entity.clone()),
        country: Set(v.country.clone()),
        contact_email: Set(v.contact_email.clone()),
        contact_phone: Set(v.contact_phone.clone()),
        owner_user_id: Set(v.owner.as_uuid()),
        status: Set(v.status.code().to_owned()),
        status_reason: Set(v.status_reason.clone()),
        holiday_until: Set(v.holiday_until),
        description: Set(v.profile.description.clone()),
        policies: Set(v.profile.policies.clone()),
        return_address: Set(return_address),
        logo_key: Set(v.profile.logo_key.clone()),
        banner_key: Set(v.profile.banner_key.clone()),
        shipping_flat_rate_amount: Set(v.shipping.flat_rate.map(|m| m.amount)),
        shipping_flat_rate_currency: Set(v
            .shipping
            .flat_rate
            .map(|m| m.currency.code().to_owned())),
        free_shipping_over_amount: Set(v.shipping.free_over.map(|m| m.amount)),
        free_shipping_over_currency: Set(v
            .shipping
            .free_over
            .map(|m| m.currency.code().to_owned())),
        legal_address: Set(legal_address),
        vat_id: Set(v.vat_id.clone()),
        created_at: Set(v.created_at),
        updated_at: Set(v.updated_at),
    })
}

pub async fn insert(tx: &TenantTx, v: &Vendor) -> Result<(), DbErr> {
    vendor::Entity::insert(to_model(tx, v)?)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// Saves every field of an existing vendor.
pub async fn update(tx: &TenantTx, v: &Vendor) -> Result<(), DbErr> {
    // The primary key (tenant_id, id) scopes the update to this shop.
    vendor::Entity::update(to_model(tx, v)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn find(tx: &TenantTx, id: VendorId) -> Result<Option<Vendor>, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// A page of the shop's vendors in `statuses` (all when empty), after `after`, locked as
/// `lock` says.
pub async fn list(
    tx: &TenantTx,
    statuses: &[VendorStatus],
    after: Option<VendorId>,
    limit: u64,
    lock: RowLock,
) -> Result<Vec<Vendor>, DbErr> {
    let mut query = lock.on(vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(vendor::Column::Id)
        .limit(limit));
    if !statuses.is_empty() {
        query = query.filter(vendor::Column::Status.is_in(statuses.iter().map(|s| s.code())));
    }
    if let Some(after) = after {
        query = query.filter(vendor::Column::Id.gt(after.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Vendors the given ids name, in id order (the caller's own vendors).
pub async fn find_many(tx: &TenantTx, ids: &[VendorId]) -> Result<Vec<Vendor>, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
        .order_by_asc(vendor::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Vendors that count against the plan: every one not rejected.
pub async fn count_active(tx: &TenantTx) -> Result<u64, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::Status.ne(VendorStatus::Rejected.code()))
        .count(&**tx)
        .await
}

/// Vendors whose recorded owner is `user`.
pub async fn owned_by(tx: &TenantTx, user: UserId) -> Result<Vec<Vendor>, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::OwnerUserId.eq(user.as_uuid()))
        .order_by_asc(vendor::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}
