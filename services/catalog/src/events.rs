//! Events the catalog publishes (all version 1), written to the outbox in the transaction of
//! the change they describe:
//!
//! - `product.changed`: a full snapshot of a product ([`ProductChanged`]) whenever the
//!   product, its variants, or its visibility to shoppers changes (a vendor's approval or
//!   suspension included; its stock flipping between in stock and sold out, as the stock
//!   mirror learns it), and once more with `deleted: true` when it is deleted. Inventory
//!   learns from it which variants are whose; search indexes it.
//! - `product.approved`, `product.rejected`: the merchant's moderation decisions
//!   ([`ProductModerated`]).
//!
//! It consumes `vendor.*` as [`VENDORS`] (the vendors mirror: who may list, whose listings
//! are visible, the vendor's name) and `stock.changed` as [`STOCK`] (the stock mirror behind
//! `available` and `in_stock`). Both deduplicate through the inbox and ignore an event older
//! than what they already applied.

use crate::domain::{ProductStatus, VendorMirror, VendorStatus};
use crate::repo::{self, bundle};
use async_trait::async_trait;
use mercato_db::{Db, TenantTx};
use mercato_events::{Envelope, Handler, HandlerError, publish};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, ProductId, TenantId, UserId, VariantId, VendorId};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const PRODUCT_CHANGED: &str = "product.changed";
pub const PRODUCT_APPROVED: &str = "product.approved";
pub const PRODUCT_REJECTED: &str = "product.rejected";

/// `product.changed`: the product as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductChanged {
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    /// Shoppers see it: `active` and its vendor approved (and not deleted).
    pub visible: bool,
    pub category_id: Option<CategoryId>,
    /// Category ids from the root down to `category_id`.
    pub category_path: Vec<CategoryId>,
    pub tags: Vec<String>,
    pub attributes: Vec<AttributeSnapshot>,
    pub vendor_name: String,
    pub variants: Vec<VariantSnapshot>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSnapshot {
    pub code: String,
    /// The canonical text (`red`, `1.5`, `true`).
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSnapshot {
    pub variant_id: VariantId,
    pub sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
}

pub async fn product_changed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    snapshots: &[ProductChanged],
) -> Result<(), DbErr> {
    for snapshot in snapshots {
        publish(conn, PRODUCT_CHANGED, tenant, snapshot).await?;
    }
    Ok(())
}

/// Loads the products `ids` as they now stand in `tx` and publishes `product.changed` for each.
pub async fn publish_changed(tx: &TenantTx, ids: &[ProductId]) -> Result<(), DbErr> {
    for chunk in ids.chunks(200) {
        let bundle = bundle::load(tx, chunk, bundle::Include::default()).await?;
        let snapshots: Vec<ProductChanged> = bundle
            .products
            .iter()
            .map(|p| bundle.changed(p, false))
            .collect();
        product_changed(&**tx, tx.tenant(), &snapshots).await?;
    }
    Ok(())
}

/// `product.approved` / `product.rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductModerated {
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub slug: String,
    pub title: String,
    /// Why it was rejected; shown to the vendor.
    pub reason: Option<String>,
    /// `usr_…` or `key_…`.
    pub actor: String,
}

pub async fn product_moderated(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    payload: &ProductModerated,
) -> Result<(), DbErr> {
    publish(conn, name, tenant, payload).await
}

/// The durable consumer that mirrors vendors.
pub const VENDORS: &str = "catalog-vendors";
pub const VENDORS_PATTERNS: &[&str] = &["vendor.*"];

/// The part of a `vendor.*` event (vendors, version 1) this consumer reads. The lifecycle
/// and profile events carry all of it; the others (`vendor.checklist_overridden`) do not,
/// and are skipped.
#[derive(Deserialize)]
struct VendorEvent {
    vendor_id: VendorId,
    slug: Option<String>,
    store_name: Option<String>,
    status: Option<String>,
    owner_user_id: Option<UserId>,
}

pub struct VendorsMirror {
    pub db: Db,
    pub outbox: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Handler for VendorsMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let payload: VendorEvent = event.payload_as()?;
        let (Some(slug), Some(store_name), Some(status), Some(owner)) = (
            payload.slug,
            payload.store_name,
            payload.status,
            payload.owner_user_id,
        ) else {
            // Not a snapshot of the vendor (e.g. a checklist override): nothing to mirror.
            return Ok(());
        };
        let Some(status) = VendorStatus::parse(&status) else {
            tracing::warn!(tenant_id = %event.tenant_id, event_id = %event.id, status, "vendor event with an unknown status; ignored");
            return Ok(());
        };
        let tx = self.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, VENDORS, event).await? {
            return Ok(());
        }
        let before = repo::vendors::find(&tx, payload.vendor_id).await?;
        if before
            .as_ref()
            .is_some_and(|b| b.event_at > event.occurred_at)
        {
            // A later event was applied already (redelivery out of order).
            tx.commit().await?;
            return Ok(());
        }
        let after = VendorMirror {
            id: payload.vendor_id,
            slug,
            store_name,
            status,
            owner,
            event_at: event.occurred_at,
        };
        repo::vendors::upsert(&tx, &after).await?;
        // Products show the vendor's name and hide with it: tell consumers when that changed.
        let republish = before.is_some_and(|b| {
            b.is_selling() != after.is_selling() || b.store_name != after.store_name
        });
        if republish {
            let ids = repo::products::ids(&tx, Some(after.id)).await?;
            publish_changed(&tx, &ids).await?;
        }
        tx.commit().await?;
        if republish {
            self.outbox.notify_one();
        }
        Ok(())
    }
}

/// The durable consumer that mirrors stock levels.
pub const STOCK: &str = "catalog-stock";
pub const STOCK_PATTERNS: &[&str] = &["stock.changed"];

/// `stock.changed` (inventory, version 1).
#[derive(Deserialize)]
struct StockChanged {
    variant_id: VariantId,
    product_id: ProductId,
    vendor_id: VendorId,
    /// Units that can be sold now, across the vendor's warehouses.
    available: i64,
    #[serde(default)]
    on_hand: i64,
    #[serde(default)]
    reserved: i64,
}

pub struct StockMirror {
    pub db: Db,
    pub outbox: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Handler for StockMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let payload: StockChanged = event.payload_as()?;
        let tx = self.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, STOCK, event).await? {
            return Ok(());
        }
        // Whether the product could be bought before this report, to tell when it flips.
        let variants: Vec<VariantId> = repo::variants::of_products(&tx, &[payload.product_id])
            .await?
            .iter()
            .map(|v| v.id)
            .collect();
        let mut levels = repo::stock::available(&tx, &variants).await?;
        let was_in_stock = levels.values().any(|available| *available > 0);
        let applied = repo::stock::record(
            &tx,
            &repo::stock::StockLevel {
                variant: payload.variant_id,
                product: payload.product_id,
                vendor: payload.vendor_id,
                available: payload.available,
                on_hand: payload.on_hand,
                reserved: payload.reserved,
                event_at: event.occurred_at,
            },
        )
        .await?;
        if applied && variants.contains(&payload.variant_id) {
            levels.insert(payload.variant_id, payload.available.max(0));
        }
        // In stock ↔ sold out is what shoppers see (and search filters on): say so. The
        // snapshot goes out after this commit, so its consumers read the new level.
        let flipped = applied && was_in_stock != levels.values().any(|available| *available > 0);
        if flipped {
            publish_changed(&tx, &[payload.product_id]).await?;
        }
        tx.commit().await?;
        if flipped {
            self.outbox.notify_one();
        }
        Ok(())
    }
}
