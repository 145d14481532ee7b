//! Events the orders service publishes (all version 1), written to the outbox in the
//! transaction of the change:
//!
//! - `order.placed`, `order.paid`, `order.expired`, `order.cancelled`, `order.completed`,
//!   `order.partially_refunded`, `order.refunded` (see `transitions`), and
//!   `order.payment_failed` (see `payment`);
//! - `vendor_order.to_fulfil`, `vendor_order.shipped`, `vendor_order.delivered`,
//!   `vendor_order.cancelled`;
//! - `refund.completed` `{ order_id, refund_id, reservation_id, amount, vendor_order_id,
//!   shares: [{ vendor_order_id, amount }], stray_payment, restock_lines: [{ variant_id,
//!   quantity }] }`;
//! - `return.requested`, `return.accepted`, `return.rejected`.
//!
//! It consumes, each into a mirror through the inbox and ignoring events older than the row:
//! `product.changed` ([`CATALOG_MIRROR`]), `vendor.*` ([`VENDOR_MIRROR`]),
//! `commission_rule.*` ([`COMMISSION_MIRROR`]) and `stock.changed` ([`STOCK_MIRROR`]).

use crate::OrdersState;
use crate::repo::mirror::{self, CatalogVariant, VendorMirror};
use crate::repo::orders::FullOrder;
use crate::repo::payments::{Refund, Return};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_catalog_api::{PRODUCT_CHANGED, ProductChanged, TAX_CATEGORY_ATTRIBUTE};
use mercato_db::TenantTx;
use mercato_events::{Envelope, Handler, HandlerError, Subscription, publish};
use mercato_inventory_api::{STOCK_CHANGED, StockChanged};
use mercato_kernel::Money;
use mercato_tenant_context::{UserId, VariantId, VendorId};
use mercato_vendors_api::commission::CommissionRuleId;
use mercato_vendors_api::vendor::{self, VendorSnapshot};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

pub const CATALOG_MIRROR: &str = "orders-catalog";
pub const VENDOR_MIRROR: &str = "orders-vendors";
pub const COMMISSION_MIRROR: &str = "orders-commission";
pub const STOCK_MIRROR: &str = "orders-stock";

pub fn subscriptions(state: &OrdersState) -> Vec<Subscription> {
    vec![
        Subscription {
            consumer: CATALOG_MIRROR,
            patterns: &[PRODUCT_CHANGED],
            handler: Arc::new(CatalogMirror(state.clone())),
        },
        Subscription {
            consumer: VENDOR_MIRROR,
            patterns: &[vendor::VENDOR_EVENTS],
            handler: Arc::new(VendorsMirror(state.clone())),
        },
        Subscription {
            consumer: COMMISSION_MIRROR,
            patterns: &["commission_rule.*"],
            handler: Arc::new(CommissionMirror(state.clone())),
        },
        Subscription {
            consumer: STOCK_MIRROR,
            patterns: &[STOCK_CHANGED],
            handler: Arc::new(StockMirror(state.clone())),
        },
    ]
}

struct CatalogMirror(OrdersState);

#[async_trait]
impl Handler for CatalogMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let p: ProductChanged = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, CATALOG_MIRROR, event).await? {
            return Ok(());
        }
        let tax_category = p
            .attribute(TAX_CATEGORY_ATTRIBUTE)
            .unwrap_or(crate::domain::tax::STANDARD)
            .to_owned();
        let several = p.variants.len() > 1;
        let variants: Vec<CatalogVariant> = if p.deleted {
            Vec::new()
        } else {
            p.variants
                .iter()
                .map(|v| CatalogVariant {
                    id: v.variant_id,
                    product: p.product_id,
                    vendor: p.vendor_id,
                    title: if several {
                        format!("{} ({})", p.title, v.sku)
                    } else {
                        p.title.clone()
                    },
                    sku: v.sku.clone(),
                    price: v.price,
                    categories: p.category_path.clone(),
                    tax_category: tax_category.clone(),
                    visible: p.visible,
                })
                .collect()
        };
        mirror::save_product(&tx, p.product_id, &variants, event.occurred_at).await?;
        tx.commit().await?;
        Ok(())
    }
}

struct VendorsMirror(OrdersState);

#[async_trait]
impl Handler for VendorsMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        if !vendor::carries_snapshot(&event.name) {
            return Ok(());
        }
        let v: VendorSnapshot = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, VENDOR_MIRROR, event).await? {
            return Ok(());
        }
        let shipping = v.shipping;
        let vendor = VendorMirror {
            id: v.vendor_id,
            name: v.store_name,
            status: v.status.code().to_owned(),
            owner: Some(v.owner_user_id),
            flat_rate: shipping.flat_rate,
            free_over: shipping
                .free_over
                .filter(|f| shipping.flat_rate.is_some_and(|r| r.currency == f.currency))
                .map(|f| f.amount),
            holiday_until: v.holiday_until,
        };
        mirror::save_vendor(&tx, &vendor, event.occurred_at).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The id every `commission_rule.*` event carries.
#[derive(Deserialize)]
struct RuleId {
    #[serde(alias = "rule_id", alias = "commission_rule_id")]
    id: String,
}

struct CommissionMirror(OrdersState);

#[async_trait]
impl Handler for CommissionMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let rule: RuleId = event.payload_as()?;
        let Ok(id) = rule.id.parse::<CommissionRuleId>() else {
            return Ok(());
        };
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, COMMISSION_MIRROR, event).await? {
            return Ok(());
        }
        if event.name.ends_with(".deleted") {
            mirror::delete_commission_rule(&tx, id.as_uuid()).await?;
        } else {
            mirror::save_commission_rule(&tx, id.as_uuid(), &event.payload).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

struct StockMirror(OrdersState);

/// Mirrors one report in the caller's transaction.
async fn save_stock(tx: &TenantTx, event: &Envelope) -> Result<(), HandlerError> {
    let s: StockChanged = event.payload_as()?;
    if mercato_events::mark_processed(&**tx, STOCK_MIRROR, event).await? {
        mirror::save_stock(tx, s.variant_id, s.available, event.occurred_at).await?;
    }
    Ok(())
}

/// Mirrors several reports of the caller's transaction's shop, in delivery order, in two
/// statements: the inbox records of all, then the latest new report per variant (what
/// applying them one by one with `save_stock` would leave).
async fn save_stocks(tx: &TenantTx, events: &[&Envelope]) -> Result<(), HandlerError> {
    let reports = events
        .iter()
        .map(|event| event.payload_as::<StockChanged>())
        .collect::<Result<Vec<_>, _>>()?;
    let new = mercato_events::mark_processed_all(&**tx, STOCK_MIRROR, events).await?;
    let latest = latest_per_variant(
        reports
            .iter()
            .zip(events)
            .zip(new)
            .filter(|(_, new)| *new)
            .map(|((s, event), _)| (s.variant_id, s.available, event.occurred_at)),
    );
    mirror::save_stocks(tx, &latest).await?;
    Ok(())
}

/// Of `reports` (variant, available, when), in delivery order, the one per variant that
/// the mirror keeps once all are applied: the latest, and of equally late ones the last
/// delivered (as applying them one by one with `save_stock`'s rule would). In variant
/// order, so concurrent batches lock the rows they share in the same order.
fn latest_per_variant(
    reports: impl IntoIterator<Item = (VariantId, i64, DateTime<Utc>)>,
) -> Vec<(VariantId, i64, DateTime<Utc>)> {
    let mut latest: HashMap<VariantId, (i64, DateTime<Utc>)> = HashMap::new();
    for (variant, available, at) in reports {
        match latest.entry(variant) {
            Entry::Occupied(mut kept) if kept.get().1 <= at => {
                kept.insert((available, at));
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(slot) => {
                slot.insert((available, at));
            }
        }
    }
    let mut out: Vec<_> = latest
        .into_iter()
        .map(|(variant, (available, at))| (variant, available, at))
        .collect();
    out.sort_unstable_by_key(|(variant, _, _)| *variant);
    out
}

#[async_trait]
impl Handler for StockMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        save_stock(&tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A burst of reports (two per line of every checkout) in one transaction per shop.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in mercato_events::by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            save_stocks(&tx, &events).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Placed<'a> {
    order_id: crate::domain::OrderId,
    status: &'static str,
    reservation_id: Option<&'a str>,
    customer_id: Option<UserId>,
    total: Money,
    vendor_orders: Vec<PlacedVendorOrder>,
    actor: &'a str,
}

#[derive(Serialize)]
struct PlacedVendorOrder {
    vendor_order_id: crate::domain::VendorOrderId,
    vendor_id: VendorId,
    total: Money,
    commission: Money,
    earnings: Money,
}

pub async fn order_placed(tx: &TenantTx, full: &FullOrder, actor: &str) -> Result<(), DbErr> {
    let o = &full.order;
    let m = |a: i64| Money::new(a, o.currency);
    publish(
        &**tx,
        "order.placed",
        tx.tenant(),
        &Placed {
            order_id: o.id,
            status: o.status.code(),
            reservation_id: o.reservation.as_deref(),
            customer_id: o.customer,
            total: m(o.total),
            vendor_orders: full
                .vendor_orders
                .iter()
                .map(|v| PlacedVendorOrder {
                    vendor_order_id: v.id,
                    vendor_id: v.vendor,
                    total: m(v.total),
                    commission: m(v.commission),
                    earnings: m(v.earnings),
                })
                .collect(),
            actor,
        },
    )
    .await
}

#[derive(Serialize)]
struct Units {
    variant_id: VariantId,
    quantity: i64,
}

#[derive(Serialize)]
struct RefundCompleted<'a> {
    order_id: crate::domain::OrderId,
    refund_id: crate::domain::RefundId,
    reservation_id: Option<&'a str>,
    vendor_order_id: Option<crate::domain::VendorOrderId>,
    amount: Money,
    /// Each vendor order's part of the amount.
    shares: &'a [crate::repo::payments::VendorShare],
    stray_payment: bool,
    restock_lines: Vec<Units>,
    actor: &'a str,
}

pub async fn refund_completed(tx: &TenantTx, full: &FullOrder, r: &Refund) -> Result<(), DbErr> {
    let restock_lines = if r.restock {
        r.lines
            .iter()
            .filter_map(|q| {
                let line = full.lines.iter().find(|l| l.id == q.line_id)?;
                Some(Units {
                    variant_id: line.variant,
                    quantity: q.quantity,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    publish(
        &**tx,
        "refund.completed",
        tx.tenant(),
        &RefundCompleted {
            order_id: full.order.id,
            refund_id: r.id,
            reservation_id: full.order.reservation.as_deref(),
            vendor_order_id: r.vendor_order_id,
            amount: r.amount,
            shares: &r.shares,
            stray_payment: r.stray_payment,
            restock_lines,
            actor: &r.actor,
        },
    )
    .await
}

pub async fn return_changed(
    tx: &TenantTx,
    name: &str,
    r: &Return,
    actor: &str,
) -> Result<(), DbErr> {
    #[derive(Serialize)]
    struct ReturnEvent<'a> {
        #[serde(flatten)]
        r: &'a Return,
        actor: &'a str,
    }
    publish(&**tx, name, tx.tenant(), &ReturnEvent { r, actor }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use mercato_tenant_context::TenantId;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, second).unwrap()
    }

    #[test]
    fn keeps_the_latest_report_per_variant_and_the_last_of_a_tie() {
        let (a, b, c) = (VariantId::new(), VariantId::new(), VariantId::new());
        let latest = latest_per_variant([
            (a, 5, at(1)),
            (b, 9, at(3)),
            (a, 4, at(2)),
            // Delivered late but older than what came before: loses.
            (b, 7, at(2)),
            (c, 1, at(4)),
            // As late as the one before: the later delivered wins, as one by one it would.
            (c, 0, at(4)),
        ]);
        let mut expected = vec![(a, 4, at(2)), (b, 9, at(3)), (c, 0, at(4))];
        expected.sort_unstable_by_key(|(variant, _, _)| *variant);
        assert_eq!(latest, expected);
        assert!(latest_per_variant([]).is_empty());
    }

    /// Runs `scenario` on a migrated SQLite file, then on PostgreSQL in a schema of its own
    /// when `MERCATO_TEST_POSTGRES_URL` is set. Both are removed afterwards, pass or fail.
    async fn on_every_database<F, Fut>(scenario: F)
    where
        F: Fn(mercato_db::Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        use mercato_db::{Db, DbTarget};
        use sea_orm::ConnectionTrait;
        let file =
            std::env::temp_dir().join(format!("orders-stock-{}.db", uuid::Uuid::now_v7().simple()));
        let db = Db::connect(DbTarget::Sqlite(&file), 2).await.unwrap();
        mercato_db::migrate(&db, "orders", crate::repo::MIGRATIONS)
            .await
            .unwrap();
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
        let schema = format!("orders_stock_{}", uuid::Uuid::now_v7().simple());
        let target = DbTarget::Postgres {
            url: &url,
            schema: &schema,
        };
        let db = Db::connect(target, 2).await.unwrap();
        mercato_db::migrate(&db, "orders", crate::repo::MIGRATIONS)
            .await
            .unwrap();
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

    fn report(tenant: TenantId, variant: VariantId, available: i64, second: u32) -> Envelope {
        let report = StockChanged {
            variant_id: variant,
            product_id: mercato_tenant_context::ProductId::new(),
            vendor_id: VendorId::new(),
            sku: "TEA-1".into(),
            on_hand: available,
            reserved: 0,
            available,
        };
        let mut event = Envelope::new(STOCK_CHANGED, 1, tenant, &report).unwrap();
        event.occurred_at = at(second);
        event
    }

    async fn mirror_batch(db: &mercato_db::Db, tenant: TenantId, events: &[&Envelope]) {
        let tx = db.tenant_tx(tenant).await.unwrap();
        save_stocks(&tx, events).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn levels(db: &mercato_db::Db, tenant: TenantId, variants: &[VariantId]) -> Vec<i64> {
        let tx = db.tenant_tx(tenant).await.unwrap();
        let levels = mirror::available(&tx, variants).await.unwrap();
        variants
            .iter()
            .map(|v| levels.get(v).copied().unwrap_or(-1))
            .collect()
    }

    async fn batches_keep_the_latest_new_report(db: mercato_db::Db) {
        let tenant = TenantId::new();
        let (a, b, c) = (VariantId::new(), VariantId::new(), VariantId::new());
        let first = report(tenant, a, 5, 5);
        mirror_batch(&db, tenant, &[&first]).await;
        assert_eq!(levels(&db, tenant, &[a]).await, [5]);

        // Older than the stored report, newest of the batch, as new as another one: the
        // stored one stays, the newest wins, the later delivered of a tie wins.
        let (stale, b1, b2, c1, c2) = (
            report(tenant, a, 1, 4),
            report(tenant, b, 3, 2),
            report(tenant, b, 8, 1),
            report(tenant, c, 7, 3),
            report(tenant, c, 6, 3),
        );
        mirror_batch(&db, tenant, &[&stale, &b1, &c1, &b2, &c2, &b1]).await;
        assert_eq!(levels(&db, tenant, &[a, b, c]).await, [5, 3, 6]);

        // A report as new as the stored one wins ...
        let tx = db.tenant_tx(tenant).await.unwrap();
        mirror::save_stock(&tx, a, 0, at(5)).await.unwrap();
        tx.commit().await.unwrap();
        // ... but a redelivered one was applied already: the inbox skips it.
        mirror_batch(&db, tenant, &[&first, &report(tenant, b, 2, 3)]).await;
        assert_eq!(levels(&db, tenant, &[a, b, c]).await, [0, 2, 6]);

        // More reports than one statement holds.
        let many: Vec<VariantId> = (0..600).map(|_| VariantId::new()).collect();
        let reports: Vec<Envelope> = many
            .iter()
            .enumerate()
            .map(|(i, v)| report(tenant, *v, i64::try_from(i).unwrap(), 1))
            .collect();
        mirror_batch(&db, tenant, &reports.iter().collect::<Vec<_>>()).await;
        let expected: Vec<i64> = (0..600).collect();
        assert_eq!(levels(&db, tenant, &many).await, expected);
        mirror::save_stocks(&db.tenant_tx(tenant).await.unwrap(), &[])
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stock_batches_keep_the_latest_new_report() {
        on_every_database(batches_keep_the_latest_new_report).await;
    }
}
