//! Accounts of one realm.

use super::entities::user;
use crate::domain::{AccountRole, Email};
use mercato_db::TenantTx;
use mercato_tenant_context::UserId;
use sea_orm::prelude::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

const STAFF_ROLES: [&str; 3] = ["owner", "admin", "staff"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub role: AccountRole,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn from_model(m: user::Model) -> Result<User, DbErr> {
    Ok(User {
        id: UserId::from_uuid(m.id),
        role: AccountRole::parse(&m.role).ok_or_else(|| {
            DbErr::Custom(format!("stored user has an invalid role: {:?}", m.role))
        })?,
        active: m.status == "active",
        email: m.email,
        name: m.name,
        password_hash: m.password_hash,
        created_at: m.created_at,
    })
}

/// Creates an account. A unique violation means the email is registered in this realm.
pub async fn insert(tx: &TenantTx, user: &User) -> Result<(), DbErr> {
    let model = user::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(user.id.as_uuid()),
        email: Set(user.email.clone()),
        name: Set(user.name.clone()),
        password_hash: Set(user.password_hash.clone()),
        role: Set(user.role.code().to_owned()),
        status: Set(if user.active { "active" } else { "disabled" }.to_owned()),
        created_at: Set(user.created_at),
        updated_at: Set(user.created_at),
        session_epoch: Set(0),
    };
    user::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn find_by_email(tx: &TenantTx, email: &Email) -> Result<Option<User>, DbErr> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn find(tx: &TenantTx, id: UserId) -> Result<Option<User>, DbErr> {
    user::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Serializes staff changes within the realm (seat counts, the last-owner rule) until the
/// transaction ends. SQLite transactions already take the write lock when they begin.
pub async fn lock_staff(tx: &TenantTx) -> Result<(), DbErr> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("identity.staff:{}", tx.tenant()).into()],
        ))
        .await?;
    }
    Ok(())
}

/// Active merchant staff accounts (owners included): the seats in use.
pub async fn count_active_staff(tx: &TenantTx) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Status.eq("active"))
        .filter(user::Column::Role.is_in(STAFF_ROLES))
        .count(&**tx)
        .await
}

pub async fn count_active_owners(tx: &TenantTx) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Status.eq("active"))
        .filter(user::Column::Role.eq("owner"))
        .count(&**tx)
        .await
}

/// Merchant staff accounts (active and removed) in creation order, after `after`.
pub async fn list_staff(
    tx: &TenantTx,
    after: Option<UserId>,
    limit: u64,
) -> Result<Vec<User>, DbErr> {
    let mut query = user::Entity::find()
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Role.is_in(STAFF_ROLES));
    if let Some(after) = after {
        query = query.filter(user::Column::Id.gt(after.as_uuid()));
    }
    query
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Sets an account's role and whether it is active (joining the staff, a role change,
/// removal). False if there is no such account.
pub async fn set_membership(
    tx: &TenantTx,
    id: UserId,
    role: AccountRole,
    active: bool,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(role.code()))
        .col_expr(
            user::Column::Status,
            Expr::value(if active { "active" } else { "disabled" }),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn set_password_hash(tx: &TenantTx, id: UserId, phc: &str) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(phc))
        .col_expr(user::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The account's session epoch and whether it is active; `None` if there is no account.
pub async fn session_epoch(tx: &TenantTx, id: UserId) -> Result<Option<(u64, bool)>, DbErr> {
    Ok(
        user::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
            .one(&**tx)
            .await?
            .map(|m| (epoch_of(m.session_epoch), m.status == "active")),
    )
}

/// Starts a new session epoch for the account: every access token issued before this
/// transaction commits is refused from then on (ADR 0029). Returns the new epoch and
/// whether the account is active, or `None` if there is no account.
pub async fn bump_session_epoch(tx: &TenantTx, id: UserId) -> Result<Option<(u64, bool)>, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(
            user::Column::SessionEpoch,
            Expr::col(user::Column::SessionEpoch).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(user::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    session_epoch(tx, id).await
}

/// Epochs only grow from 0; a negative stored value would be a bug, read as 0.
fn epoch_of(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}
