//! Events the inventory service publishes, all version 1:
//!
//! - `stock.changed` `{ variant_id, product_id, vendor_id, sku, on_hand, reserved, available }`:
//!   a variant's totals over its vendor's warehouses, after any change to any of them
//!   (catalog mirrors `available` and "in stock").
//! - `stock.low` `{ variant_id, product_id, vendor_id, sku, available, threshold }`: once per
//!   crossing below the variant's low-stock threshold.
//! - `reservation.created`, `reservation.committed`, `reservation.released`,
//!   `reservation.expired` `{ reservation_id, status, reference, expires_at, actor, lines }`,
//!   each line `{ variant_id, product_id, vendor_id, quantity, allocations }`.
//!
//! It consumes `product.changed` (catalog) as [`CATALOG_MIRROR`], to know which variants
//! exist and whose they are, and `vendor.*` (vendors) as [`VENDOR_MIRROR`], to know the
//! shop's vendors. Both record the event in the inbox in the same transaction as the
//! change, and ignore events older than what they already reflect.

use crate::InventoryState;
use crate::domain::reservation::{Allocation, Reservation};
use crate::domain::stock::Totals;
use crate::domain::{ReservationId, Variant};
use crate::repo;
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, publish};
use mercato_tenant_context::{ProductId, TenantId, VariantId, VendorId};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct StockChanged<'a> {
    variant_id: VariantId,
    product_id: ProductId,
    vendor_id: VendorId,
    sku: &'a str,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

pub async fn stock_changed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    variant: &Variant,
    totals: Totals,
) -> Result<(), DbErr> {
    let payload = StockChanged {
        variant_id: variant.id,
        product_id: variant.product,
        vendor_id: variant.vendor,
        sku: &variant.sku,
        on_hand: totals.on_hand,
        reserved: totals.reserved,
        available: totals.available,
    };
    publish(conn, "stock.changed", tenant, &payload).await
}

#[derive(Serialize)]
struct StockLow<'a> {
    variant_id: VariantId,
    product_id: ProductId,
    vendor_id: VendorId,
    sku: &'a str,
    available: i64,
    threshold: i64,
}

pub async fn stock_low(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    variant: &Variant,
    available: i64,
    threshold: i64,
) -> Result<(), DbErr> {
    let payload = StockLow {
        variant_id: variant.id,
        product_id: variant.product,
        vendor_id: variant.vendor,
        sku: &variant.sku,
        available,
        threshold,
    };
    publish(conn, "stock.low", tenant, &payload).await
}

#[derive(Serialize)]
struct ReservationLine<'a> {
    variant_id: VariantId,
    product_id: Option<ProductId>,
    vendor_id: Option<VendorId>,
    quantity: i64,
    allocations: &'a [Allocation],
}

#[derive(Serialize)]
struct ReservationEvent<'a> {
    reservation_id: ReservationId,
    status: &'static str,
    reference: Option<&'a str>,
    expires_at: chrono::DateTime<chrono::Utc>,
    actor: &'a str,
    lines: Vec<ReservationLine<'a>>,
}

/// `reservation.<verb>` for `reservation`; `variants` name each line's product and vendor.
pub async fn reservation(
    conn: &impl ConnectionTrait,
    name: &str,
    tenant: TenantId,
    reservation: &Reservation,
    variants: &[Variant],
    actor: &str,
) -> Result<(), DbErr> {
    let lines = reservation
        .lines
        .iter()
        .map(|line| {
            let variant = variants.iter().find(|v| v.id == line.variant);
            ReservationLine {
                variant_id: line.variant,
                product_id: variant.map(|v| v.product),
                vendor_id: variant.map(|v| v.vendor),
                quantity: line.quantity,
                allocations: &line.allocations,
            }
        })
        .collect();
    let payload = ReservationEvent {
        reservation_id: reservation.id,
        status: reservation.status.code(),
        reference: reservation.reference.as_deref(),
        expires_at: reservation.expires_at,
        actor,
        lines,
    };
    publish(conn, name, tenant, &payload).await
}

/// The durable consumer that mirrors catalog's variants.
pub const CATALOG_MIRROR: &str = "inventory-catalog";
pub const CATALOG_MIRROR_PATTERNS: &[&str] = &["product.changed"];

/// The part of `product.changed` (catalog, version 1) this consumer reads.
#[derive(Debug, Deserialize)]
struct ProductChanged {
    product_id: ProductId,
    vendor_id: VendorId,
    #[serde(default)]
    variants: Vec<ChangedVariant>,
    #[serde(default)]
    deleted: bool,
}

#[derive(Debug, Deserialize)]
struct ChangedVariant {
    #[serde(alias = "id")]
    variant_id: VariantId,
    #[serde(default)]
    sku: String,
}

/// Records which variants exist and whose they are. Variants missing from the event, and
/// all of a deleted product's, are marked deleted: their stock and history stay, but they
/// take no new stock or reservations.
pub struct CatalogMirror(pub InventoryState);

#[async_trait]
impl Handler for CatalogMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let product: ProductChanged = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, CATALOG_MIRROR, event).await? {
            return Ok(());
        }
        let mut ids: Vec<VariantId> = product.variants.iter().map(|v| v.variant_id).collect();
        ids.extend(repo::mirror::product_variants(&tx, product.product_id).await?);
        // Locked in the same order stock changes lock them, so the two never deadlock.
        repo::mirror::lock_variants(&tx, &ids).await?;
        let mut changed: Vec<&ChangedVariant> = product.variants.iter().collect();
        changed.sort_by_key(|v| v.variant_id);
        for v in &changed {
            let variant = repo::mirror::CatalogVariant {
                id: v.variant_id,
                product: product.product_id,
                vendor: product.vendor_id,
                sku: &v.sku,
                deleted: product.deleted,
            };
            repo::mirror::save_variant(&tx, &variant, event.occurred_at).await?;
        }
        let keep: Vec<VariantId> = if product.deleted {
            Vec::new()
        } else {
            changed.iter().map(|v| v.variant_id).collect()
        };
        repo::mirror::delete_other_variants(&tx, product.product_id, &keep, event.occurred_at)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The durable consumer that mirrors the shop's vendors.
pub const VENDOR_MIRROR: &str = "inventory-vendors";
pub const VENDOR_MIRROR_PATTERNS: &[&str] = &["vendor.*"];

/// The part of `vendor.*` (vendors, version 1) this consumer reads. Lifecycle and profile
/// events carry the status; others (`vendor.checklist_overridden`) do not and change nothing
/// here.
#[derive(Debug, Deserialize)]
struct VendorEvent {
    vendor_id: VendorId,
    #[serde(default)]
    status: Option<String>,
}

/// Records that a vendor exists (and its status), so merchant staff can set up warehouses
/// for it.
pub struct VendorMirror(pub InventoryState);

#[async_trait]
impl Handler for VendorMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let vendor: VendorEvent = event.payload_as()?;
        let Some(status) = vendor.status else {
            return Ok(());
        };
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, VENDOR_MIRROR, event).await? {
            return Ok(());
        }
        repo::mirror::save_vendor(&tx, vendor.vendor_id, &status, event.occurred_at).await?;
        tx.commit().await?;
        Ok(())
    }
}
