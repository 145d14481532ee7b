//! A shop's custom domains. One host name routes to at most one shop: only one row per host
//! name may be `verified` (a partial unique index), while several shops may claim it pending.

use super::entities::domain;
use crate::domain::shop::Shop;
use mercato_db::{PlatformTx, TenantTx};
use mercato_kernel::typed_id;
use mercato_tenant_context::TenantId;
use sea_orm::prelude::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

typed_id!(
    /// A custom domain attached to a shop.
    pub DomainId, "dom"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    /// Waiting for the TXT record to be found.
    Pending,
    /// Ownership proven; the domain routes to the shop.
    Verified,
    /// Checks gave up; the merchant can ask for a new check.
    Failed,
}

impl DomainStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
        }
    }

    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "pending" => Ok(Self::Pending),
            "verified" => Ok(Self::Verified),
            "failed" => Ok(Self::Failed),
            other => Err(DbErr::Custom(format!(
                "stored domain has an invalid status: {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: DomainId,
    pub tenant: TenantId,
    pub hostname: String,
    pub status: DomainStatus,
    pub verification_token: String,
    pub last_checked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn from_model(m: domain::Model) -> Result<Domain, DbErr> {
    Ok(Domain {
        id: DomainId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        status: DomainStatus::parse(&m.status)?,
        hostname: m.hostname,
        verification_token: m.verification_token,
        last_checked_at: m.last_checked_at,
        last_error: m.last_error,
        verified_at: m.verified_at,
        created_at: m.created_at,
    })
}

pub async fn insert(tx: &TenantTx, d: &Domain) -> Result<(), DbErr> {
    let model = domain::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(d.id.as_uuid()),
        hostname: Set(d.hostname.clone()),
        status: Set(d.status.code().to_owned()),
        verification_token: Set(d.verification_token.clone()),
        last_checked_at: Set(d.last_checked_at),
        last_error: Set(d.last_error.clone()),
        verified_at: Set(d.verified_at),
        created_at: Set(d.created_at),
    };
    domain::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn list(tx: &TenantTx) -> Result<Vec<Domain>, DbErr> {
    domain::Entity::find()
        .filter(domain::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(domain::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

pub async fn count(tx: &TenantTx) -> Result<u64, DbErr> {
    domain::Entity::find()
        .filter(domain::Column::TenantId.eq(tx.tenant().as_uuid()))
        .count(&**tx)
        .await
}

pub async fn find(tx: &TenantTx, id: DomainId) -> Result<Option<Domain>, DbErr> {
    domain::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn delete(tx: &TenantTx, id: DomainId) -> Result<bool, DbErr> {
    let result = domain::Entity::delete_by_id((tx.tenant().as_uuid(), id.as_uuid()))
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the outcome of one ownership check.
pub async fn record_check(tx: &TenantTx, d: &Domain) -> Result<(), DbErr> {
    domain::Entity::update_many()
        .col_expr(domain::Column::Status, Expr::value(d.status.code()))
        .col_expr(
            domain::Column::LastCheckedAt,
            Expr::value(d.last_checked_at),
        )
        .col_expr(domain::Column::LastError, Expr::value(d.last_error.clone()))
        .col_expr(domain::Column::VerifiedAt, Expr::value(d.verified_at))
        .filter(domain::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(domain::Column::Id.eq(d.id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// The shop a verified host name belongs to, if any (the gateway's resolution, and the
/// check that a host name is free before a shop claims it).
pub async fn verified_owner(tx: &PlatformTx, hostname: &str) -> Result<Option<Shop>, DbErr> {
    let Some(found) = domain::Entity::find()
        .filter(domain::Column::Hostname.eq(hostname))
        .filter(domain::Column::Status.eq(DomainStatus::Verified.code()))
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    super::shops::find(tx, TenantId::from_uuid(found.tenant_id)).await
}
