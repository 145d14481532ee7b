//! Events the catalog publishes (all version 1), written to the outbox in the transaction of
//! the change they describe:
//!
//! - `product.changed`: a full snapshot of a product ([`ProductChanged`]) whenever the
//!   product, its variants, its images (one added), its status (a vendor's edit sending it
//!   back to review included), or its visibility to shoppers changes (a vendor's approval or
//!   suspension included; its stock flipping between in stock and sold out, as the stock
//!   mirror learns it), and once more with `deleted: true` when it is deleted. Inventory
//!   learns from it which variants are whose; search indexes it.
//! - `product.approved`, `product.rejected`: the merchant's moderation decisions
//!   ([`ProductModerated`]).
//!
//! An operator can have every product announced again ([`republish`]).
//!
//! It consumes `vendor.*` as [`VENDORS`] (the vendors mirror: who may list, whose listings
//! are visible, the vendor's name, whose listings say the vendor is on holiday) and
//! `stock.changed` as [`STOCK`] (the stock mirror behind `available` and `in_stock`). Both
//! deduplicate through the inbox and ignore an event older than what they already applied.

use crate::domain::VendorMirror;
use crate::repo::{self, bundle};
use async_trait::async_trait;
use mercato_db::{RowLock, TenantTx};
use mercato_events::{Envelope, HandlerError, Mirror, MirrorChange, MirrorTable, Retire, publish};
use mercato_inventory_api::{STOCK_CHANGED, StockChanged};
use mercato_tenant_context::{ProductId, TenantId, VariantId, VendorId};
use mercato_vendors_api::vendor::{self, VendorSnapshot};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;

// The payloads are the contract crate's, so consumers read them without depending on this
// service.
pub use mercato_catalog_api::{
    AttributeSnapshot, PRODUCT_APPROVED, PRODUCT_CHANGED, PRODUCT_EVENT_VERSION, PRODUCT_REJECTED,
    ProductChanged, ProductModerated, VariantSnapshot,
};

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

/// Announces every product of `tenant` again as it now stands (`product.changed`), for
/// consumers catching up (a new mirror, a table rebuilt, a search index): in one
/// transaction that holds the products, so a change committed meanwhile is announced after.
/// Returns how many it announced.
pub async fn republish(db: &mercato_db::Db, tenant: TenantId) -> Result<u64, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let ids = repo::products::ids(&tx, None, RowLock::Shared).await?;
    publish_changed(&tx, &ids).await?;
    tx.commit().await?;
    Ok(ids.len() as u64)
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
pub const VENDORS_PATTERNS: &[&str] = &[vendor::VENDOR_EVENTS];

/// `vendor.*` into `vendors`. A vendor that starts or stops selling, or is renamed, changes
/// how its products show: they are published again in the same transaction.
pub struct VendorsMirror;

#[async_trait]
impl Mirror for VendorsMirror {
    type Event = VendorSnapshot;
    type Row = VendorMirror;
    /// The rows as they were.
    type Before = HashMap<VendorId, VendorMirror>;
    const TABLE: MirrorTable = repo::vendors::TABLE;

    fn wants(&self, event: &Envelope) -> bool {
        // Not every `vendor.*` event is a snapshot (a checklist override is not).
        vendor::carries_snapshot(&event.name)
    }

    fn change(
        &self,
        event: &Envelope,
        payload: VendorSnapshot,
    ) -> Result<MirrorChange<VendorMirror>, HandlerError> {
        Ok(MirrorChange::row(VendorMirror {
            id: payload.vendor_id,
            slug: payload.slug,
            store_name: payload.store_name,
            status: payload.status,
            owner: payload.owner_user_id,
            holiday_until: payload.holiday_until,
            event_at: event.occurred_at,
        }))
    }

    async fn before(
        &self,
        tx: &TenantTx,
        rows: &[&VendorMirror],
        _: &[Retire],
    ) -> Result<Self::Before, DbErr> {
        let ids: Vec<VendorId> = rows.iter().map(|v| v.id).collect();
        let found = repo::vendors::find_many(tx, &ids).await?;
        Ok(found.into_iter().map(|v| (v.id, v)).collect())
    }

    async fn after(
        &self,
        tx: &TenantTx,
        before: Self::Before,
        written: &[&VendorMirror],
    ) -> Result<bool, DbErr> {
        // Products show the vendor's name and hide with it: tell consumers when that
        // changed. A holiday changes neither (the notice is drawn from the mirror when a page
        // is read).
        let mut ids = Vec::new();
        for after in written {
            let republish = before.get(&after.id).is_some_and(|b| {
                b.is_selling() != after.is_selling() || b.store_name != after.store_name
            });
            if republish {
                ids.extend(repo::products::ids(tx, Some(after.id), RowLock::None).await?);
            }
        }
        publish_changed(tx, &ids).await?;
        Ok(!ids.is_empty())
    }
}

/// The durable consumer that mirrors stock levels.
pub const STOCK: &str = "catalog-stock";
pub const STOCK_PATTERNS: &[&str] = &[STOCK_CHANGED];

/// `stock.changed` (inventory, version 1) into `stock`. A product that flips between in
/// stock and sold out over a burst is published once again (shoppers and search see it);
/// one that went sold out and back within the burst ends as it began and is not.
pub struct StockMirror;

#[async_trait]
impl Mirror for StockMirror {
    type Event = StockChanged;
    type Row = repo::stock::StockLevel;
    /// Each product's variants and what they had available before.
    type Before = HashMap<ProductId, HashMap<VariantId, i64>>;
    const TABLE: MirrorTable = repo::stock::TABLE;

    fn change(
        &self,
        event: &Envelope,
        payload: StockChanged,
    ) -> Result<MirrorChange<Self::Row>, HandlerError> {
        Ok(MirrorChange::row(repo::stock::StockLevel {
            variant: payload.variant_id,
            product: payload.product_id,
            vendor: payload.vendor_id,
            available: payload.available,
            on_hand: payload.on_hand,
            reserved: payload.reserved,
            event_at: event.occurred_at,
        }))
    }

    async fn before(
        &self,
        tx: &TenantTx,
        rows: &[&Self::Row],
        _: &[Retire],
    ) -> Result<Self::Before, DbErr> {
        let mut products: Vec<ProductId> = rows.iter().map(|r| r.product).collect();
        products.sort_unstable();
        products.dedup();
        repo::stock::levels_of_products(tx, &products).await
    }

    async fn after(
        &self,
        tx: &TenantTx,
        before: Self::Before,
        written: &[&Self::Row],
    ) -> Result<bool, DbErr> {
        let mut after = before.clone();
        for report in written {
            // Only the product's own variants count (as the catalog knows them).
            if let Some(level) = after
                .get_mut(&report.product)
                .and_then(|levels| levels.get_mut(&report.variant))
            {
                *level = report.available.max(0);
            }
        }
        let in_stock = |levels: Option<&HashMap<VariantId, i64>>| {
            levels.is_some_and(|levels| levels.values().any(|available| *available > 0))
        };
        // The snapshots go out after this commit, so their consumers read the new levels.
        let mut flipped: Vec<ProductId> = written
            .iter()
            .map(|r| r.product)
            .filter(|p| in_stock(before.get(p)) != in_stock(after.get(p)))
            .collect();
        flipped.sort_unstable();
        flipped.dedup();
        publish_changed(tx, &flipped).await?;
        Ok(!flipped.is_empty())
    }
}

#[cfg(test)]
mod stock_mirror_tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use mercato_db::Db;
    use mercato_events::{Handler, Mirrored};
    use mercato_testkit::TestDb;
    use sea_orm::Statement;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, second).unwrap()
    }

    /// The catalog's tables, on a small pool.
    struct Catalog;

    impl mercato_testkit::Schema for Catalog {
        const NAME: &'static str = "catalog_stock";
        const SQLITE_CONNECTIONS: u32 = 2;
        const POSTGRES_CONNECTIONS: u32 = 2;

        async fn migrate(db: &Db) -> Result<(), DbErr> {
            crate::migrate(db).await
        }
    }

    mercato_testkit::on_every_database!(
        Catalog, TestDb::pool; stock_batches_republish_once_per_product_that_flipped
    );

    /// An approved vendor's active product with `variants` variants.
    async fn product(db: &Db, tenant: TenantId, variants: usize) -> (ProductId, Vec<VariantId>) {
        let (vendor, product) = (VendorId::new(), ProductId::new());
        let ids: Vec<VariantId> = (0..variants).map(|_| VariantId::new()).collect();
        let tx = db.tenant_tx(tenant).await.unwrap();
        let run = |sql: &str, values: Vec<sea_orm::Value>| {
            Statement::from_sql_and_values(tx.get_database_backend(), sql, values)
        };
        tx.execute_raw(run(
            "INSERT INTO vendors (tenant_id, id, slug, store_name, status, owner_user_id, event_at) \
             VALUES ($1, $2, $3, 'Acme', 'approved', $4, $5) ON CONFLICT DO NOTHING",
            vec![
                tenant.as_uuid().into(),
                vendor.as_uuid().into(),
                format!("acme-{}", vendor.as_uuid().simple()).into(),
                uuid::Uuid::now_v7().into(),
                at(0).into(),
            ],
        ))
        .await
        .unwrap();
        tx.execute_raw(run(
            "INSERT INTO products (tenant_id, id, vendor_id, slug, title, status, tags, \
               option_types, currency, min_price, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'Mug', 'active', '[]', '[]', 'EUR', 900, $5, $5)",
            vec![
                tenant.as_uuid().into(),
                product.as_uuid().into(),
                vendor.as_uuid().into(),
                format!("mug-{}", product.as_uuid().simple()).into(),
                at(0).into(),
            ],
        ))
        .await
        .unwrap();
        for (position, id) in ids.iter().enumerate() {
            tx.execute_raw(run(
                "INSERT INTO variants (tenant_id, id, product_id, sku, options, price_amount, \
                   currency, position, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, '{}', 900, 'EUR', $5, $6, $6)",
                vec![
                    tenant.as_uuid().into(),
                    id.as_uuid().into(),
                    product.as_uuid().into(),
                    format!("MUG-{}", id.as_uuid().simple()).into(),
                    i32::try_from(position).unwrap().into(),
                    at(0).into(),
                ],
            ))
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        (product, ids)
    }

    fn report(
        tenant: TenantId,
        product: ProductId,
        variant: VariantId,
        available: i64,
        second: u32,
    ) -> Envelope {
        let report = StockChanged {
            variant_id: variant,
            product_id: product,
            vendor_id: VendorId::new(),
            sku: "MUG-1".into(),
            on_hand: available,
            reserved: 0,
            available,
        };
        let mut event = Envelope::new(STOCK_CHANGED, 1, tenant, &report).unwrap();
        event.occurred_at = at(second);
        event
    }

    /// The products of the `product.changed` events in the outbox, in publishing order.
    async fn republished(db: &Db, tenant: TenantId) -> Vec<ProductId> {
        let tx = db.tenant_tx(tenant).await.unwrap();
        let rows = tx
            .query_all_raw(Statement::from_string(
                tx.get_database_backend(),
                "SELECT CAST(payload AS TEXT) FROM outbox WHERE name = 'product.changed' ORDER BY seq",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                let text: String = row.try_get_by_index(0).unwrap();
                let payload: ProductChanged = serde_json::from_str(&text).unwrap();
                payload.product_id
            })
            .collect()
    }

    async fn levels(db: &Db, tenant: TenantId, variants: &[VariantId]) -> Vec<i64> {
        let tx = db.tenant_tx(tenant).await.unwrap();
        let levels = repo::stock::available(&tx, variants).await.unwrap();
        variants
            .iter()
            .map(|v| levels.get(v).copied().unwrap_or(-1))
            .collect()
    }

    async fn stock_batches_republish_once_per_product_that_flipped(db: Db) {
        let tenant = TenantId::new();
        let (mug, mugs) = product(&db, tenant, 2).await;
        let (cup, cups) = product(&db, tenant, 1).await;
        let mirror = Mirrored::new(STOCK, db.clone(), StockMirror);

        // The mug's first variant comes and goes, its second never comes: still sold out.
        // The cup comes into stock.
        mirror
            .handle_batch(&[
                report(tenant, mug, mugs[0], 3, 1),
                report(tenant, cup, cups[0], 4, 1),
                report(tenant, mug, mugs[0], 0, 2),
                report(tenant, mug, mugs[1], 0, 1),
            ])
            .await
            .unwrap();
        assert_eq!(levels(&db, tenant, &mugs).await, [0, 0]);
        assert_eq!(levels(&db, tenant, &cups).await, [4]);
        assert_eq!(republished(&db, tenant).await, [cup]);

        // In, out and in again within one batch: one snapshot of the mug, in stock.
        let burst = [
            report(tenant, mug, mugs[0], 5, 3),
            report(tenant, mug, mugs[0], 0, 4),
            report(tenant, mug, mugs[0], 2, 5),
        ];
        mirror.handle_batch(&burst).await.unwrap();
        assert_eq!(levels(&db, tenant, &mugs).await, [2, 0]);
        assert_eq!(republished(&db, tenant).await, [cup, mug]);

        // Redelivered, older than what is stored, or ending where it began: nothing more.
        mirror.handle_batch(&burst).await.unwrap();
        mirror
            .handle_batch(&[
                report(tenant, mug, mugs[0], 0, 1),
                report(tenant, mug, mugs[1], 0, 6),
                report(tenant, mug, mugs[1], 1, 7),
                report(tenant, mug, mugs[0], 0, 8),
                report(tenant, mug, mugs[1], 0, 8),
                report(tenant, mug, mugs[0], 1, 8),
            ])
            .await
            .unwrap();
        assert_eq!(levels(&db, tenant, &mugs).await, [1, 0]);
        assert_eq!(republished(&db, tenant).await, [cup, mug]);
        // A report older than the stored one would sell the mug out, were it applied.
        mirror
            .handle_batch(&[report(tenant, mug, mugs[0], 0, 7)])
            .await
            .unwrap();
        assert_eq!(levels(&db, tenant, &mugs).await, [1, 0]);
        assert_eq!(republished(&db, tenant).await, [cup, mug]);

        // One at a time (`handle`) and out of stock: the cup again.
        mirror
            .handle(&report(tenant, cup, cups[0], -2, 9))
            .await
            .unwrap();
        assert_eq!(levels(&db, tenant, &cups).await, [0]);
        assert_eq!(republished(&db, tenant).await, [cup, mug, cup]);
    }
}
