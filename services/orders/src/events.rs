//! Events the orders service publishes, written to the outbox in the transaction of the
//! change, with their names and payloads declared in its contract crate
//! (`mercato_orders_api::events`): `order.placed` and `refund.completed` here, the
//! `order.<status>` and `vendor_order.<status>` moves in `usecases::transitions`,
//! `order.payment_failed` in `usecases::payment`, and `return.*` and `tax_rate.*` (the
//! shop's tax rates, set in `http::settings`, announced again by [`republish`]) here.
//!
//! It consumes, each into a mirror through the inbox and ignoring events older than the row:
//! `product.changed` ([`CATALOG_MIRROR`]), `vendor.*` ([`VENDOR_MIRROR`]),
//! `commission_rule.*` ([`COMMISSION_MIRROR`]) and `stock.changed` ([`STOCK_MIRROR`]).

use crate::OrdersState;
use crate::domain::order::FullOrder;
use crate::domain::payment::{Refund, Return};
use crate::repo::mirror::{self, CatalogVariant, VendorMirror};
use mercato_catalog_api::{PRODUCT_CHANGED, ProductChanged, TAX_CATEGORY_ATTRIBUTE};
use mercato_db::TenantTx;
use mercato_events::{
    Envelope, HandlerError, Mirror, MirrorChange, MirrorTable, Mirrored, Subscription, publish,
};
use mercato_inventory_api::{STOCK_CHANGED, StockChanged};
use mercato_kernel::Money;
use mercato_orders_api::events::{
    LineUnits, ORDER_PLACED, OrderPlaced, PlacedVendorOrder, REFUND_COMPLETED, RefundCompleted,
    ReturnChanged, TAX_RATE_REPUBLISHED, TaxRateChanged, Units,
};

use mercato_vendors_api::commission::CommissionRule;
use mercato_vendors_api::events::{
    COMMISSION_RULE_DELETED, COMMISSION_RULE_EVENTS, CommissionRuleSnapshot,
};
use mercato_vendors_api::vendor::{self, VendorSnapshot};
use sea_orm::DbErr;

pub const CATALOG_MIRROR: &str = "orders-catalog";
pub const VENDOR_MIRROR: &str = "orders-vendors";
pub const COMMISSION_MIRROR: &str = "orders-commission";
pub const STOCK_MIRROR: &str = "orders-stock";

pub fn subscriptions(state: &OrdersState) -> Vec<Subscription> {
    let db = &state.db;
    vec![
        Mirrored::new(CATALOG_MIRROR, db.clone(), CatalogMirror).subscribe(&[PRODUCT_CHANGED]),
        Mirrored::new(VENDOR_MIRROR, db.clone(), VendorsMirror).subscribe(&[vendor::VENDOR_EVENTS]),
        Mirrored::new(COMMISSION_MIRROR, db.clone(), CommissionMirror)
            .subscribe(&[COMMISSION_RULE_EVENTS]),
        Mirrored::new(STOCK_MIRROR, db.clone(), StockMirror).subscribe(&[STOCK_CHANGED]),
    ]
}

/// `product.changed` into `catalog_variants`: a product's variants as catalog describes
/// them; variants it no longer has (all of a deleted product's) can no longer be bought.
struct CatalogMirror;

impl Mirror for CatalogMirror {
    type Event = ProductChanged;
    type Row = CatalogVariant;
    type Before = ();
    const TABLE: MirrorTable = mirror::CATALOG_VARIANTS;

    fn change(
        &self,
        _: &Envelope,
        p: ProductChanged,
    ) -> Result<MirrorChange<CatalogVariant>, HandlerError> {
        let tax_category = p
            .attribute(TAX_CATEGORY_ATTRIBUTE)
            .unwrap_or(crate::domain::tax::STANDARD)
            .to_owned();
        let several = p.variants.len() > 1;
        let rows = if p.deleted {
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
        Ok(MirrorChange {
            rows,
            retire: Some(mirror::retire_other_variants(p.product_id)),
        })
    }
}

/// `vendor.*` into `vendors`: name, status, owner, shipping settings and holiday.
struct VendorsMirror;

impl Mirror for VendorsMirror {
    type Event = VendorSnapshot;
    type Row = VendorMirror;
    type Before = ();
    const TABLE: MirrorTable = mirror::VENDORS;

    fn wants(&self, event: &Envelope) -> bool {
        vendor::carries_snapshot(&event.name)
    }

    fn change(
        &self,
        _: &Envelope,
        v: VendorSnapshot,
    ) -> Result<MirrorChange<VendorMirror>, HandlerError> {
        let shipping = v.shipping;
        Ok(MirrorChange::row(VendorMirror {
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
        }))
    }
}

/// `commission_rule.*` into `commission_rules`: each rule as published, checked to be one
/// the vendors service could have made (one that is not is dead-lettered, never quoted), and
/// a tombstone once deleted.
struct CommissionMirror;

impl Mirror for CommissionMirror {
    type Event = CommissionRuleSnapshot;
    type Row = mirror::MirroredRule;
    type Before = ();
    const TABLE: MirrorTable = mirror::COMMISSION_RULES;

    fn change(
        &self,
        event: &Envelope,
        snapshot: CommissionRuleSnapshot,
    ) -> Result<MirrorChange<mirror::MirroredRule>, HandlerError> {
        let (id, deleted) = (snapshot.id, snapshot.deleted);
        CommissionRule::try_from(snapshot)
            .map_err(|e| HandlerError::Payload(serde::de::Error::custom(e)))?;
        // The rule as its event carried it, without who acted: a republished rule is the
        // same rule, announced by someone else.
        let mut rule = event.payload.clone();
        if let Some(fields) = rule.as_object_mut() {
            fields.remove("actor");
        }
        Ok(MirrorChange::row(mirror::MirroredRule {
            id,
            rule,
            deleted: deleted || event.name == COMMISSION_RULE_DELETED,
        }))
    }
}

/// `stock.changed` into `stock`: the units available per variant. A burst (two reports per
/// line of every checkout) is one transaction of two statements.
struct StockMirror;

impl Mirror for StockMirror {
    type Event = StockChanged;
    type Row = mirror::StockRow;
    type Before = ();
    const TABLE: MirrorTable = mirror::STOCK;

    fn change(
        &self,
        _: &Envelope,
        s: StockChanged,
    ) -> Result<MirrorChange<mirror::StockRow>, HandlerError> {
        Ok(MirrorChange::row(mirror::StockRow {
            variant: s.variant_id,
            available: s.available,
        }))
    }
}

/// `order.placed`, in the transaction that created the order.
/// Publishes `name` (`tax_rate.set`, `.deleted` or `.republished`) for `rate`.
pub async fn tax_rate(
    tx: &TenantTx,
    name: &str,
    rate: &crate::repo::settings::TaxRate,
    deleted: bool,
    actor: &str,
) -> Result<(), DbErr> {
    publish(
        &**tx,
        name,
        tx.tenant(),
        &TaxRateChanged {
            tax_rate_id: rate.id,
            country: rate.rule.country.clone(),
            category: rate.rule.category.clone(),
            rate: rate.rule.rate.to_string(),
            deleted,
            actor: actor.to_owned(),
        },
    )
    .await
}

/// Announces the shop's tax rates again (`tax_rate.republished`), for consumers catching up
/// (`mercato events republish orders`), in one transaction. Returns how many it wrote.
pub async fn republish(
    db: &mercato_db::Db,
    tenant: mercato_tenant_context::TenantId,
) -> Result<u64, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let rates = crate::repo::settings::tax_rates(&tx).await?;
    for rate in &rates {
        tax_rate(&tx, TAX_RATE_REPUBLISHED, rate, false, "republish").await?;
    }
    tx.commit().await?;
    Ok(rates.len() as u64)
}

pub async fn order_placed(tx: &TenantTx, full: &FullOrder, actor: &str) -> Result<(), DbErr> {
    let o = &full.order;
    let m = |a: i64| Money::new(a, o.currency);
    publish(
        &**tx,
        ORDER_PLACED,
        tx.tenant(),
        &OrderPlaced {
            order_id: o.id,
            status: o.status,
            reservation_id: o.reservation,
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
            actor: actor.to_owned(),
        },
    )
    .await
}

/// `refund.completed`, in the transaction that records the provider's answer.
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
        REFUND_COMPLETED,
        tx.tenant(),
        &RefundCompleted {
            order_id: full.order.id,
            refund_id: r.id,
            reservation_id: full.order.reservation,
            vendor_order_id: r.vendor_order_id,
            amount: r.amount,
            shares: r.shares.clone(),
            stray_payment: r.stray_payment,
            restock_lines,
            actor: r.actor.clone(),
        },
    )
    .await
}

/// `return.<name>` (`requested`, `accepted`, `rejected`) with the return as it now is.
pub async fn return_changed(
    tx: &TenantTx,
    name: &str,
    r: &Return,
    actor: &str,
) -> Result<(), DbErr> {
    let event = ReturnChanged {
        id: r.id,
        order_id: r.order_id,
        vendor_order_id: r.vendor_order_id,
        lines: r
            .lines
            .iter()
            .map(|l| LineUnits {
                line_id: l.line_id,
                quantity: l.quantity,
            })
            .collect(),
        reason: r.reason.clone(),
        status: r.status.code().to_owned(),
        decided_by: r.decided_by.clone(),
        decision_note: r.decision_note.clone(),
        refund_id: r.refund_id,
        actor: actor.to_owned(),
    };
    publish(&**tx, name, tx.tenant(), &event).await
}
