//! CSV import and export (format: `docs/catalog-csv.md`). An import is accepted at once
//! (202) and runs as a job; its progress and per-row errors are polled at
//! `/api/v1/catalog/imports/{id}`. An export is the same format, for one vendor or (the
//! merchant) for all.

use super::{signed_in, vendor_for};
use crate::CatalogState;
use crate::domain::ImportId;
use crate::domain::csv_file::{self, ExportRow, RowError};
use crate::import::{self, NewImport};
use crate::repo::imports::{Import, ImportStatus};
use crate::repo::{self, bundle};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mercato_db::RowLock;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{Permission, ProductId, TenantContext, VendorId, VendorPermission};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/catalog/imports", post(start))
        .route("/api/v1/catalog/imports/{import_id}", get(show))
        .route("/api/v1/catalog/export", get(export))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportOut {
    pub id: ImportId,
    /// `None`: the merchant's import over all vendors.
    pub vendor_id: Option<VendorId>,
    pub status: ImportStatus,
    /// Data rows in the file.
    pub total_rows: i64,
    /// Rows looked at so far.
    pub processed_rows: i64,
    /// Rows that added a variant.
    pub created_rows: i64,
    /// Rows that changed a variant or its product.
    pub updated_rows: i64,
    /// Rows that matched what was stored (a re-run of the same file).
    pub unchanged_rows: i64,
    /// Rows not applied (see `errors`).
    pub failed_rows: i64,
    /// All row errors; `errors` holds the first 1000.
    pub error_count: i64,
    pub errors: Vec<RowError>,
    /// Why a failed import stopped.
    pub failure: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Import> for ImportOut {
    fn from(i: Import) -> Self {
        Self {
            id: i.id,
            vendor_id: i.vendor,
            status: i.status,
            total_rows: i.total_rows,
            processed_rows: i.processed_rows,
            created_rows: i.created_rows,
            updated_rows: i.updated_rows,
            unchanged_rows: i.unchanged_rows,
            failed_rows: i.failed_rows,
            error_count: i.error_count,
            errors: i.errors,
            failure: i.failure,
            created_at: i.created_at,
            finished_at: i.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorQuery {
    /// The vendor the file is for. Merchant staff may leave it out: each row then names its
    /// vendor in the `vendor_id` column (import), or every vendor is exported.
    pub vendor_id: Option<String>,
}

fn vendor_param(query: &VendorQuery) -> Result<Option<VendorId>, Problem> {
    query
        .vendor_id
        .as_deref()
        .map(|text| {
            text.parse()
                .map_err(|_| Problem::invalid_field("/vendor_id", "a vendor id (ven_…)"))
        })
        .transpose()
}

/// Whom an import or export covers: one vendor (its staff or the merchant), or every
/// vendor (the merchant only).
async fn scope(
    state: &CatalogState,
    ctx: &TenantContext,
    vendor: Option<VendorId>,
    permission: VendorPermission,
) -> Result<(Option<VendorId>, bool), Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    match vendor {
        Some(id) => {
            let (found, side) = vendor_for(&tx, ctx, id, permission).await?;
            if permission == VendorPermission::ListingsWrite {
                super::require_listing(&found)?;
            }
            Ok((Some(id), side == crate::domain::product::Side::Merchant))
        }
        None => {
            signed_in(ctx)?;
            ctx.require(Permission::CatalogManage)?;
            Ok((None, true))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/catalog/imports", tag = "catalog", params(VendorQuery),
    request_body(content = String, description = "the CSV file (UTF-8, header row first); see docs/catalog-csv.md", content_type = "text/csv"),
    responses((status = 202, description = "accepted; poll the import for progress", body = ImportOut),
        (status = 401), (status = 403), (status = 404), (status = 409, description = "the vendor may not list"),
        (status = 413), (status = 422, description = "the file's shape: unknown, repeated or missing columns (`/columns/<name>`), no rows, not UTF-8")))]
pub async fn start(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Query(query): Query<VendorQuery>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let vendor = vendor_param(&query)?;
    let (vendor, as_merchant) =
        scope(&state, &ctx, vendor, VendorPermission::ListingsWrite).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::invalid_field("/", "the file is not UTF-8 text"))?;
    let total_rows = import::check_file(text, vendor.is_none()).map_err(|problems| {
        Problem::validation(
            problems
                .0
                .into_iter()
                .map(|(field, message)| FieldError::new(field, message))
                .collect(),
        )
    })?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let created = import::create(
        &tx,
        NewImport {
            vendor,
            as_merchant,
            product_limit: ctx.terms.limits.products,
            created_by: &ctx.actor.label(),
            total_rows,
        },
        text,
        true,
    )
    .await?;
    tx.commit().await?;
    let location = format!("/api/v1/catalog/imports/{}", created.id);
    let mut response = (StatusCode::ACCEPTED, Json(ImportOut::from(created))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/catalog/imports/{import_id}", tag = "catalog",
    params(("import_id" = String, Path)),
    responses((status = 200, body = ImportOut), (status = 401), (status = 404)))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<ImportOut>, Problem> {
    let id: ImportId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    signed_in(&ctx)?;
    let found = repo::imports::find(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    match found.vendor {
        Some(vendor) => {
            vendor_for(&tx, &ctx, vendor, VendorPermission::Read).await?;
        }
        None if ctx.can(Permission::CatalogManage) => {}
        None => return Err(Problem::not_found()),
    }
    Ok(Json(found.into()))
}

#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog", params(VendorQuery),
    responses((status = 200, description = "the products and variants as CSV, in the import format", content_type = "text/csv", body = String),
        (status = 401), (status = 403), (status = 404)))]
pub async fn export(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Query(query): Query<VendorQuery>,
) -> Result<Response, Problem> {
    let vendor = vendor_param(&query)?;
    let (vendor, _) = scope(&state, &ctx, vendor, VendorPermission::Read).await?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let ids: Vec<ProductId> = repo::products::ids(&tx, vendor, RowLock::None).await?;
    let categories: HashMap<_, _> = repo::categories::all(&tx)
        .await?
        .into_iter()
        .map(|c| (c.id, c.slug))
        .collect();
    let mut text = String::new();
    for (i, chunk) in ids.chunks(500).enumerate() {
        let loaded = bundle::load(&tx, chunk, bundle::Include::default()).await?;
        let rows = loaded.products.iter().flat_map(|p| {
            let category_slug = p
                .category
                .and_then(|c| categories.get(&c))
                .map(String::as_str);
            let attributes = loaded.attributes_of(p.id);
            loaded.variants_of(p.id).iter().map(move |v| ExportRow {
                vendor: p.vendor,
                product: p,
                category_slug,
                attributes,
                variant: v,
            })
        });
        let part = csv_file::write_rows(rows).map_err(Problem::internal)?;
        // Every chunk writes the header; keep the first one only.
        if i == 0 {
            text.push_str(&part);
        } else if let Some((_, rest)) = part.split_once('\n') {
            text.push_str(rest);
        }
    }
    if ids.is_empty() {
        text = csv_file::write_rows(std::iter::empty()).map_err(Problem::internal)?;
    }
    let name = match vendor {
        Some(v) => format!("products-{v}.csv"),
        None => "products.csv".to_owned(),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response())
}
