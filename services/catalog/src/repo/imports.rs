//! CSV import runs: the file, where the run is, and what went wrong on which row.

use super::entities::import;
use super::{corrupt, json_err};
use crate::domain::ImportId;
use crate::domain::csv_file::RowError;
use mercato_db::TenantTx;
use mercato_tenant_context::VendorId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;

/// At most this many row errors are kept per import (the count goes on).
pub const MAX_STORED_ERRORS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Waiting for the worker.
    Queued,
    /// Rows are being applied, a chunk at a time.
    Running,
    /// Every row was looked at; valid rows are applied, invalid ones listed.
    Completed,
    /// Stopped without looking at every row (see `failure`).
    Failed,
}

impl ImportStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub id: ImportId,
    /// The vendor whose products the file holds; `None` for a merchant's import over all
    /// vendors (each row names its vendor).
    pub vendor: Option<VendorId>,
    pub status: ImportStatus,
    /// Started by merchant staff (or the CLI): "active" rows go on sale without review.
    pub as_merchant: bool,
    /// The plan's product limit when the import was started.
    pub product_limit: i64,
    pub total_rows: i64,
    pub processed_rows: i64,
    /// Products (groups of rows) applied so far: where a resumed run starts.
    pub groups_done: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub failed_rows: i64,
    pub error_count: i64,
    pub errors: Vec<RowError>,
    pub failure: Option<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Import {
    /// Adds row errors, keeping the first [`MAX_STORED_ERRORS`].
    pub fn add_errors(&mut self, errors: Vec<RowError>) {
        self.error_count += errors.len() as i64;
        let room = MAX_STORED_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(errors.into_iter().take(room));
    }
}

fn from_model(m: import::Model) -> Result<Import, DbErr> {
    Ok(Import {
        id: ImportId::from_uuid(m.id),
        vendor: m.vendor_id.map(VendorId::from_uuid),
        status: ImportStatus::parse(&m.status)
            .ok_or_else(|| corrupt("import status", &m.status))?,
        as_merchant: m.as_merchant,
        product_limit: m.product_limit,
        total_rows: m.total_rows,
        processed_rows: m.processed_rows,
        groups_done: m.groups_done,
        created_rows: m.created_rows,
        updated_rows: m.updated_rows,
        unchanged_rows: m.unchanged_rows,
        failed_rows: m.failed_rows,
        error_count: m.error_count,
        errors: serde_json::from_value(m.errors).map_err(json_err)?,
        failure: m.failure,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        finished_at: m.finished_at,
    })
}

fn to_model(tx: &TenantTx, i: &Import) -> Result<import::ActiveModel, DbErr> {
    Ok(import::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(i.id.as_uuid()),
        vendor_id: Set(i.vendor.map(|v| v.as_uuid())),
        status: Set(i.status.code().to_owned()),
        as_merchant: Set(i.as_merchant),
        product_limit: Set(i.product_limit),
        source: sea_orm::ActiveValue::NotSet,
        total_rows: Set(i.total_rows),
        processed_rows: Set(i.processed_rows),
        groups_done: Set(i.groups_done),
        created_rows: Set(i.created_rows),
        updated_rows: Set(i.updated_rows),
        unchanged_rows: Set(i.unchanged_rows),
        failed_rows: Set(i.failed_rows),
        error_count: Set(i.error_count),
        errors: Set(serde_json::to_value(&i.errors).map_err(json_err)?),
        failure: Set(i.failure.clone()),
        created_by: Set(i.created_by.clone()),
        created_at: Set(i.created_at),
        updated_at: Set(i.updated_at),
        finished_at: Set(i.finished_at),
    })
}

pub async fn insert(tx: &TenantTx, i: &Import, source: &str) -> Result<(), DbErr> {
    let mut model = to_model(tx, i)?;
    model.source = Set(source.to_owned());
    import::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// Saves the run's state (everything but the file).
pub async fn save(tx: &TenantTx, i: &Import) -> Result<(), DbErr> {
    import::Entity::update(to_model(tx, i)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn find(tx: &TenantTx, id: ImportId) -> Result<Option<Import>, DbErr> {
    let columns = import::Entity::find()
        .select_only()
        .columns([
            import::Column::TenantId,
            import::Column::Id,
            import::Column::VendorId,
            import::Column::Status,
            import::Column::AsMerchant,
            import::Column::ProductLimit,
            import::Column::TotalRows,
            import::Column::ProcessedRows,
            import::Column::GroupsDone,
            import::Column::CreatedRows,
            import::Column::UpdatedRows,
            import::Column::UnchangedRows,
            import::Column::FailedRows,
            import::Column::ErrorCount,
            import::Column::Errors,
            import::Column::Failure,
            import::Column::CreatedBy,
            import::Column::CreatedAt,
            import::Column::UpdatedAt,
            import::Column::FinishedAt,
        ])
        // The file is not needed to show progress; read it with `source`.
        .expr_as(sea_orm::sea_query::Expr::value(""), "source")
        .filter(import::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(import::Column::Id.eq(id.as_uuid()))
        .into_model::<import::Model>()
        .one(&**tx)
        .await?;
    columns.map(from_model).transpose()
}

/// The CSV text of an import.
pub async fn source(tx: &TenantTx, id: ImportId) -> Result<Option<String>, DbErr> {
    import::Entity::find()
        .select_only()
        .column(import::Column::Source)
        .filter(import::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(import::Column::Id.eq(id.as_uuid()))
        .into_tuple::<String>()
        .one(&**tx)
        .await
}
