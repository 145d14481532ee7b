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
//! It consumes `vendor.*` as [`VENDORS`] (the vendors mirror: who may list, whose listings
//! are visible, the vendor's name, whose listings say the vendor is on holiday) and
//! `stock.changed` as [`STOCK`] (the stock mirror behind `available` and `in_stock`). Both
//! deduplicate through the inbox and ignore an event older than what they already applied.

use crate::domain::VendorMirror;
use crate::repo::{self, bundle};
use async_trait::async_trait;
use mercato_db::{Db, TenantTx};
use mercato_events::{Envelope, Handler, HandlerError, publish};
use mercato_inventory_api::{STOCK_CHANGED, StockChanged};
use mercato_tenant_context::{ProductId, TenantId, VariantId};
use mercato_vendors_api::vendor::{self, VendorSnapshot};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;
use std::sync::Arc;

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

pub struct VendorsMirror {
    pub db: Db,
    pub outbox: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Handler for VendorsMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        if !vendor::carries_snapshot(&event.name) {
            // Not a snapshot of the vendor (a checklist override): nothing to mirror.
            return Ok(());
        }
        let payload: VendorSnapshot = event.payload_as()?;
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
            slug: payload.slug,
            store_name: payload.store_name,
            status: payload.status,
            owner: payload.owner_user_id,
            holiday_until: payload.holiday_until,
            event_at: event.occurred_at,
        };
        repo::vendors::upsert(&tx, &after).await?;
        // Products show the vendor's name and hide with it: tell consumers when that changed.
        // A holiday changes neither (the notice is drawn from the mirror when a page is read).
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
pub const STOCK_PATTERNS: &[&str] = &[STOCK_CHANGED];

/// `stock.changed` (inventory, version 1).
pub struct StockMirror {
    pub db: Db,
    pub outbox: Arc<tokio::sync::Notify>,
}

impl StockMirror {
    /// Mirrors the reports `payloads` of `events` (one shop's, in delivery order) in `tx`:
    /// records them all in the inbox, stores the latest new report per variant and
    /// publishes one `product.changed` per product that flipped between in stock and sold
    /// out over the batch. Returns whether any did.
    ///
    /// Applying only each variant's latest report leaves the rows applying them one by one
    /// would. A product that went sold out and back within the batch ends as it began, so
    /// it is not republished, just as its two snapshots would have ended where it started.
    async fn apply(
        &self,
        tx: &TenantTx,
        events: &[&Envelope],
        payloads: Vec<StockChanged>,
    ) -> Result<bool, HandlerError> {
        let new = mercato_events::mark_processed_all(&**tx, STOCK, events).await?;
        let reports = latest_per_variant(
            payloads
                .into_iter()
                .zip(events)
                .zip(new)
                .filter(|(_, new)| *new)
                .map(|((payload, event), _)| repo::stock::StockLevel {
                    variant: payload.variant_id,
                    product: payload.product_id,
                    vendor: payload.vendor_id,
                    available: payload.available,
                    on_hand: payload.on_hand,
                    reserved: payload.reserved,
                    event_at: event.occurred_at,
                }),
        );
        if reports.is_empty() {
            return Ok(false);
        }
        let mut products: Vec<ProductId> = reports.iter().map(|r| r.product).collect();
        products.sort_unstable();
        products.dedup();
        // Whether each product could be bought before these reports, to tell when it flips.
        let before = repo::stock::levels_of_products(tx, &products).await?;
        let recorded = repo::stock::record_all(tx, &reports).await?;
        let mut after = before.clone();
        for report in reports.iter().filter(|r| recorded.contains(&r.variant)) {
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
        // In stock ↔ sold out is what shoppers see (and search filters on): say so. The
        // snapshots go out after this commit, so their consumers read the new levels.
        let flipped: Vec<ProductId> = products
            .into_iter()
            .filter(|p| in_stock(before.get(p)) != in_stock(after.get(p)))
            .collect();
        if flipped.is_empty() {
            return Ok(false);
        }
        publish_changed(tx, &flipped).await?;
        Ok(true)
    }
}

/// Of `reports`, in delivery order, the one per variant the mirror keeps once all are
/// applied: the latest, and of equally late ones the last delivered (as applying them one
/// by one, newer or as new winning, would). In variant order, so concurrent batches lock
/// the rows they share in the same order.
fn latest_per_variant(
    reports: impl IntoIterator<Item = repo::stock::StockLevel>,
) -> Vec<repo::stock::StockLevel> {
    let mut latest: HashMap<VariantId, repo::stock::StockLevel> = HashMap::new();
    for report in reports {
        match latest.get(&report.variant) {
            Some(kept) if kept.event_at > report.event_at => {}
            _ => {
                latest.insert(report.variant, report);
            }
        }
    }
    let mut out: Vec<_> = latest.into_values().collect();
    out.sort_unstable_by_key(|r| r.variant);
    out
}

#[async_trait]
impl Handler for StockMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    /// A burst of reports (two per line of every checkout) in one transaction per shop, of
    /// three statements (inbox, levels before, upsert) unless a product flipped.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        let mut flipped = false;
        for (tenant, events) in mercato_events::by_tenant(events) {
            let payloads = events
                .iter()
                .map(|event| event.payload_as::<StockChanged>())
                .collect::<Result<Vec<_>, _>>()?;
            let tx = self.db.tenant_tx(tenant).await?;
            flipped |= self.apply(&tx, &events, payloads).await?;
            tx.commit().await?;
        }
        if flipped {
            self.outbox.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod stock_mirror_tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use mercato_db::DbTarget;
    use mercato_tenant_context::VendorId;
    use sea_orm::Statement;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, second).unwrap()
    }

    fn level(variant: VariantId, available: i64, second: u32) -> repo::stock::StockLevel {
        repo::stock::StockLevel {
            variant,
            product: ProductId::new(),
            vendor: VendorId::new(),
            available,
            on_hand: available,
            reserved: 0,
            event_at: at(second),
        }
    }

    #[test]
    fn keeps_the_latest_report_per_variant_and_the_last_of_a_tie() {
        let (a, b, c) = (VariantId::new(), VariantId::new(), VariantId::new());
        let latest = latest_per_variant([
            level(a, 5, 1),
            level(b, 9, 3),
            level(a, 4, 2),
            // Delivered late but older than what came before: loses.
            level(b, 7, 2),
            level(c, 1, 4),
            // As late as the one before: the later delivered wins, as one by one it would.
            level(c, 0, 4),
        ]);
        let mut kept: Vec<_> = latest
            .iter()
            .map(|l| (l.variant, l.available, l.event_at))
            .collect();
        let mut expected = vec![(a, 4, at(2)), (b, 9, at(3)), (c, 0, at(4))];
        expected.sort_unstable_by_key(|(variant, _, _)| *variant);
        assert_eq!(kept, expected);
        kept.dedup_by_key(|(variant, _, _)| *variant);
        assert_eq!(kept.len(), 3);
        assert!(latest_per_variant([]).is_empty());
    }

    /// Runs `scenario` on a migrated SQLite file, then on PostgreSQL in a schema of its own
    /// when `MERCATO_TEST_POSTGRES_URL` is set. Both are removed afterwards, pass or fail.
    async fn on_every_database<F, Fut>(scenario: F)
    where
        F: Fn(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let file = std::env::temp_dir().join(format!(
            "catalog-stock-{}.db",
            uuid::Uuid::now_v7().simple()
        ));
        let db = Db::connect(DbTarget::Sqlite(&file), 2).await.unwrap();
        crate::migrate(&db).await.unwrap();
        let outcome = tokio::spawn(scenario(db.clone())).await;
        db.close().await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        if let Err(error) = outcome {
            std::panic::resume_unwind(error.into_panic());
        }

        let url = match std::env::var("MERCATO_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var("MERCATO_TEST_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
                panic!("needs MERCATO_TEST_POSTGRES_URL (MERCATO_TEST_REQUIRE_BACKENDS=1)")
            }
            _ => {
                eprintln!("SKIPPED on PostgreSQL: needs MERCATO_TEST_POSTGRES_URL");
                return;
            }
        };
        let schema = format!("catalog_stock_{}", uuid::Uuid::now_v7().simple());
        let target = DbTarget::Postgres {
            url: &url,
            schema: &schema,
        };
        let db = Db::connect(target, 2).await.unwrap();
        crate::migrate(&db).await.unwrap();
        let outcome = tokio::spawn(scenario(db.clone())).await;
        db.raw_connection()
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
        db.close().await.unwrap();
        if let Err(error) = outcome {
            std::panic::resume_unwind(error.into_panic());
        }
    }

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

    async fn batches_republish_once_per_product_that_flipped(db: Db) {
        let tenant = TenantId::new();
        let (mug, mugs) = product(&db, tenant, 2).await;
        let (cup, cups) = product(&db, tenant, 1).await;
        let mirror = StockMirror {
            db: db.clone(),
            outbox: Arc::new(tokio::sync::Notify::new()),
        };

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stock_batches_republish_once_per_product_that_flipped() {
        on_every_database(batches_republish_once_per_product_that_flipped).await;
    }
}
