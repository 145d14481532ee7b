//! A variant's stock over its vendor's warehouses, and its low-stock threshold.

use super::warehouses::LevelOut;
use super::{may_change, may_read, retrying};
use crate::InventoryState;
use crate::domain::Variant;
use crate::domain::stock::check_threshold;
use crate::movements;
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, path_id};
use mercato_tenant_context::{ProductId, TenantContext, VariantId, VendorId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<InventoryState> {
    Router::new()
        .route("/api/v1/stock/{variant_id}", get(show))
        .route("/api/v1/stock/{variant_id}/threshold", put(set_threshold))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VariantStockOut {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub sku: String,
    /// Removed from the catalog: takes no new stock or reservations.
    pub deleted: bool,
    /// Over all the vendor's warehouses.
    pub on_hand: i64,
    pub reserved: i64,
    /// What can be reserved now: over active warehouses only.
    pub available: i64,
    pub low_stock_threshold: Option<i64>,
    /// Available is below the threshold.
    pub low_stock: bool,
    /// Per warehouse (the vendor's, active or not).
    pub warehouses: Vec<LevelOut>,
}

/// The variant, if the caller may see its stock: unknown or another vendor's is a 404.
async fn visible(tx: &TenantTx, ctx: &TenantContext, id: &str) -> Result<Variant, Problem> {
    let id: VariantId = path_id(id)?;
    let variant = repo::mirror::find_variant(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    may_read(ctx, variant.vendor)?;
    Ok(variant)
}

async fn stock_of(tx: &TenantTx, variant: Variant) -> Result<VariantStockOut, Problem> {
    let totals = repo::stock::totals(tx, variant.id, variant.vendor).await?;
    let levels = repo::stock::of_variant(tx, variant.id).await?;
    let ids: Vec<_> = levels.iter().map(|l| l.warehouse).collect();
    let warehouses = repo::warehouses::find_many(tx, &ids).await?;
    let warehouses = levels
        .iter()
        .filter(|l| {
            warehouses
                .iter()
                .any(|w| w.id == l.warehouse && w.vendor == variant.vendor)
        })
        .map(|l| LevelOut::new(l, Some(&variant)))
        .collect();
    Ok(VariantStockOut {
        variant_id: variant.id,
        product_id: variant.product,
        vendor_id: variant.vendor,
        sku: variant.sku,
        deleted: variant.deleted,
        on_hand: totals.on_hand,
        reserved: totals.reserved,
        available: totals.available,
        low_stock_threshold: variant.low_stock_threshold,
        low_stock: variant.low_stock,
        warehouses,
    })
}

#[utoipa::path(get, path = "/api/v1/stock/{variant_id}", tag = "inventory",
    params(("variant_id" = String, Path)),
    responses((status = 200, body = VariantStockOut), (status = 404)))]
pub async fn show(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<VariantStockOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let variant = visible(&tx, &ctx, &id).await?;
    Ok(Json(stock_of(&tx, variant).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdIn {
    /// `stock.low` is published once each time available drops below this; `null` for none.
    pub threshold: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/stock/{variant_id}/threshold", tag = "inventory",
    request_body = ThresholdIn, params(("variant_id" = String, Path)),
    responses((status = 200, body = VariantStockOut), (status = 403), (status = 404), (status = 422)))]
pub async fn set_threshold(
    State(state): State<InventoryState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<ThresholdIn>,
) -> Result<Json<VariantStockOut>, Problem> {
    if let Some(threshold) = body.threshold {
        check_threshold(threshold).map_err(|m| Problem::invalid_field("/threshold", m))?;
    }
    let (state, ctx, id, body) = (&state, &ctx, &id, &body);
    retrying(|| async move {
        let tx = state.db.tenant_tx(ctx.tenant).await?;
        let variant = visible(&tx, ctx, id).await?;
        may_change(ctx, variant.vendor)?;
        let locked = repo::mirror::lock_variants(&tx, &[variant.id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(Problem::not_found)?;
        let updated = movements::set_threshold(&tx, &locked, body.threshold).await?;
        let out = stock_of(&tx, updated).await?;
        tx.commit().await?;
        state.outbox.notify_one();
        Ok(Json(out))
    })
    .await
}
