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
use mercato_db::TenantTx;
use mercato_events::{Envelope, Handler, HandlerError, Subscription, publish};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, ProductId, UserId, VariantId, VendorId};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const CATALOG_MIRROR: &str = "orders-catalog";
pub const VENDOR_MIRROR: &str = "orders-vendors";
pub const COMMISSION_MIRROR: &str = "orders-commission";
pub const STOCK_MIRROR: &str = "orders-stock";

pub fn subscriptions(state: &OrdersState) -> Vec<Subscription> {
    vec![
        Subscription {
            consumer: CATALOG_MIRROR,
            patterns: &["product.changed"],
            handler: Arc::new(CatalogMirror(state.clone())),
        },
        Subscription {
            consumer: VENDOR_MIRROR,
            patterns: &["vendor.*"],
            handler: Arc::new(VendorsMirror(state.clone())),
        },
        Subscription {
            consumer: COMMISSION_MIRROR,
            patterns: &["commission_rule.*"],
            handler: Arc::new(CommissionMirror(state.clone())),
        },
        Subscription {
            consumer: STOCK_MIRROR,
            patterns: &["stock.changed"],
            handler: Arc::new(StockMirror(state.clone())),
        },
    ]
}

/// The part of `product.changed` (catalog) this service reads.
#[derive(Deserialize)]
struct ProductChanged {
    product_id: ProductId,
    vendor_id: VendorId,
    title: String,
    #[serde(default)]
    visible: bool,
    #[serde(default)]
    category_path: Vec<CategoryId>,
    #[serde(default)]
    attributes: Vec<Attribute>,
    #[serde(default)]
    variants: Vec<Variant>,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct Attribute {
    code: String,
    value: String,
}

#[derive(Deserialize)]
struct Variant {
    variant_id: VariantId,
    sku: String,
    price: Money,
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
            .attributes
            .iter()
            .find(|a| a.code == "tax_category")
            .map_or_else(
                || crate::domain::tax::STANDARD.to_owned(),
                |a| a.value.clone(),
            );
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

#[derive(Deserialize)]
struct VendorEvent {
    vendor_id: VendorId,
    #[serde(default)]
    store_name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    owner_user_id: Option<UserId>,
    #[serde(default)]
    shipping: Option<Shipping>,
}

#[derive(Deserialize)]
struct Shipping {
    flat_rate: Option<Money>,
    free_over: Option<Money>,
}

struct VendorsMirror(OrdersState);

#[async_trait]
impl Handler for VendorsMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let v: VendorEvent = event.payload_as()?;
        let Some(status) = v.status else {
            return Ok(());
        };
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, VENDOR_MIRROR, event).await? {
            return Ok(());
        }
        let shipping = v.shipping.unwrap_or(Shipping {
            flat_rate: None,
            free_over: None,
        });
        let vendor = VendorMirror {
            id: v.vendor_id,
            name: v.store_name,
            status,
            owner: v.owner_user_id,
            flat_rate: shipping.flat_rate,
            free_over: shipping
                .free_over
                .filter(|f| shipping.flat_rate.is_some_and(|r| r.currency == f.currency))
                .map(|f| f.amount),
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
        let Ok(id) = rule
            .id
            .parse::<mercato_vendors::domain::commission::CommissionRuleId>()
        else {
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

#[derive(Deserialize)]
struct StockChanged {
    variant_id: VariantId,
    available: i64,
}

struct StockMirror(OrdersState);

#[async_trait]
impl Handler for StockMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let s: StockChanged = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, STOCK_MIRROR, event).await? {
            return Ok(());
        }
        mirror::save_stock(&tx, s.variant_id, s.available, event.occurred_at).await?;
        tx.commit().await?;
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
