//! Events the inventory service publishes, all version 1:
//!
//! - `stock.changed` `{ variant_id, product_id, vendor_id, sku, on_hand, reserved, available }`:
//!   a variant's totals over its vendor's warehouses, after any change to what can be sold
//!   (catalog and orders mirror `available`; catalog "in stock" too). Committing a
//!   reservation lowers `on_hand` and `reserved` by the same units and leaves `available`
//!   as it was, so it is announced by `reservation.committed` alone; the totals of the next
//!   `stock.changed` include it.
//! - `stock.low` `{ variant_id, product_id, vendor_id, sku, available, threshold }`: once per
//!   crossing below the variant's low-stock threshold.
//! - `reservation.created`, `reservation.committed`, `reservation.released`,
//!   `reservation.expired` `{ reservation_id, status, reference, expires_at, actor, lines }`,
//!   each line `{ variant_id, product_id, vendor_id, quantity, allocations }`.
//!
//! An operator can have every variant's stock announced again ([`republish`]).
//!
//! It consumes `product.changed` (catalog) as [`CATALOG_MIRROR`], to know which variants
//! exist and whose they are, and `vendor.*` (vendors) as [`VENDOR_MIRROR`], to know the
//! shop's vendors, whether they are stopped and when they are on holiday; both ignore
//! events older than what they already reflect. As [`ORDER_STOCK`] it consumes orders'
//! `order.paid`, `order.expired`, `order.cancelled` and `refund.completed`, to commit,
//! release or restock the order's reservation. Every consumer records the event in the
//! inbox in the same transaction as the change.

use crate::InventoryState;
use crate::domain::reservation::{Allocation, Line, Reservation, Status};
use crate::domain::stock::Totals;
use crate::domain::vendor::MirroredVendor;
use crate::domain::{ReservationId, Variant};
use crate::movements::{self, Commits, End, Ended, MovementError, RestockRequest, Restocked};
use crate::repo;
use async_trait::async_trait;
use mercato_catalog_api::{PRODUCT_CHANGED, ProductChanged, VariantSnapshot};
use mercato_db::TenantTx;
use mercato_events::{Envelope, Handler, HandlerError, Mirror, MirrorChange, MirrorTable, Retire};
use mercato_inventory_api::{STOCK_CHANGED, STOCK_CHANGED_VERSION, StockChanged};
use mercato_orders_api::events::{
    ORDER_CANCELLED, ORDER_EXPIRED, ORDER_PAID, OrderChanged, REFUND_COMPLETED, RefundCompleted,
    Units,
};
use mercato_tenant_context::{Actor, ProductId, ServiceName, TenantId, VariantId, VendorId};
use mercato_vendors_api::vendor::{self, VendorSnapshot};
use sea_orm::DbErr;
use serde::Serialize;
use std::collections::HashMap;

/// The `stock.changed` event of `variant` at `totals`.
pub fn stock_changed(
    tenant: TenantId,
    variant: &Variant,
    totals: Totals,
) -> Result<Envelope, DbErr> {
    let payload = StockChanged {
        variant_id: variant.id,
        product_id: variant.product,
        vendor_id: variant.vendor,
        sku: variant.sku.clone(),
        on_hand: totals.on_hand,
        reserved: totals.reserved,
        available: totals.available,
    };
    Envelope::new(STOCK_CHANGED, STOCK_CHANGED_VERSION, tenant, &payload)
        .map_err(|e| DbErr::Json(e.to_string()))
}

/// Announces the stock of every variant of `tenant` again (`stock.changed` with its totals),
/// for consumers catching up (a new mirror, a table rebuilt). The variants are locked as
/// every stock change locks them, 1,000 at a time in one transaction, so a change committed
/// meanwhile is announced after. Returns how many it announced.
pub async fn republish(db: &mercato_db::Db, tenant: TenantId) -> Result<u64, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let mut count = 0;
    for chunk in repo::mirror::live_variant_ids(&tx).await?.chunks(1_000) {
        let variants = repo::mirror::lock_variants(&tx, chunk).await?;
        let pairs: Vec<(VariantId, VendorId)> = variants.iter().map(|v| (v.id, v.vendor)).collect();
        let totals = repo::stock::totals_of(&tx, &pairs).await?;
        let events = variants
            .iter()
            .map(|v| stock_changed(tenant, v, totals.get(&v.id).copied().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        mercato_events::enqueue_all(&*tx, &events).await?;
        count += events.len() as u64;
    }
    tx.commit().await?;
    Ok(count)
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

/// The `stock.low` event of `variant`, down to `available` at `threshold`.
pub fn stock_low(
    tenant: TenantId,
    variant: &Variant,
    available: i64,
    threshold: i64,
) -> Result<Envelope, DbErr> {
    let payload = StockLow {
        variant_id: variant.id,
        product_id: variant.product,
        vendor_id: variant.vendor,
        sku: &variant.sku,
        available,
        threshold,
    };
    Envelope::new("stock.low", 1, tenant, &payload).map_err(|e| DbErr::Json(e.to_string()))
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
pub fn reservation(
    name: &str,
    tenant: TenantId,
    reservation: &Reservation,
    variants: &[Variant],
    actor: &str,
) -> Result<Envelope, DbErr> {
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
    Envelope::new(name, 1, tenant, &payload).map_err(|e| DbErr::Json(e.to_string()))
}

/// The durable consumer that mirrors catalog's variants.
pub const CATALOG_MIRROR: &str = "inventory-catalog";
pub const CATALOG_MIRROR_PATTERNS: &[&str] = &[PRODUCT_CHANGED];

/// Records which variants exist and whose they are. Variants missing from the event, and
/// all of a deleted product's, are marked deleted: their stock and history stay, but they
/// take no new stock or reservations.
pub struct CatalogMirror;

#[async_trait]
impl Mirror for CatalogMirror {
    type Event = ProductChanged;
    type Row = repo::mirror::CatalogVariant;
    type Before = ();
    const TABLE: MirrorTable = repo::mirror::VARIANTS;

    fn change(
        &self,
        _: &Envelope,
        product: ProductChanged,
    ) -> Result<MirrorChange<Self::Row>, HandlerError> {
        let rows = product
            .variants
            .iter()
            .map(|v: &VariantSnapshot| repo::mirror::CatalogVariant {
                id: v.variant_id,
                product: product.product_id,
                vendor: product.vendor_id,
                sku: v.sku.clone(),
                deleted: product.deleted,
            })
            .collect();
        Ok(MirrorChange {
            rows,
            retire: Some(repo::mirror::retire_other_variants(product.product_id)),
        })
    }

    /// Locks the variants about to change, those to retire included, in the order stock
    /// changes lock them, so the two never deadlock.
    async fn before(
        &self,
        tx: &TenantTx,
        rows: &[&Self::Row],
        retire: &[Retire],
    ) -> Result<(), DbErr> {
        let mut ids: Vec<VariantId> = rows.iter().map(|v| v.id).collect();
        for r in retire {
            let product = ProductId::from_uuid(r.group);
            ids.extend(repo::mirror::product_variants(tx, product).await?);
        }
        repo::mirror::lock_variants(tx, &ids).await?;
        Ok(())
    }
}

/// The durable consumer that mirrors the shop's vendors.
pub const VENDOR_MIRROR: &str = "inventory-vendors";
pub const VENDOR_MIRROR_PATTERNS: &[&str] = &[vendor::VENDOR_EVENTS];

/// Records that a vendor exists, its status and its holiday, so merchant staff can set up
/// warehouses for it and reservations hold nothing of a vendor that is not selling.
pub struct VendorMirror;

impl Mirror for VendorMirror {
    type Event = VendorSnapshot;
    type Row = repo::mirror::VendorRow;
    type Before = ();
    const TABLE: MirrorTable = repo::mirror::VENDORS;

    fn wants(&self, event: &Envelope) -> bool {
        vendor::carries_snapshot(&event.name)
    }

    fn change(
        &self,
        _: &Envelope,
        vendor: VendorSnapshot,
    ) -> Result<MirrorChange<Self::Row>, HandlerError> {
        Ok(MirrorChange::row(repo::mirror::VendorRow {
            id: vendor.vendor_id,
            vendor: MirroredVendor {
                status: vendor.status.code().to_owned(),
                holiday_until: vendor.holiday_until,
            },
        }))
    }
}

/// The durable consumer that moves stock as orders are paid, given up and refunded.
pub const ORDER_STOCK: &str = "inventory-orders";
pub const ORDER_STOCK_PATTERNS: &[&str] =
    &[ORDER_PAID, ORDER_EXPIRED, ORDER_CANCELLED, REFUND_COMPLETED];

fn lines_of(lines: &[Units]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| Line {
            variant: l.variant_id,
            quantity: l.quantity,
        })
        .collect()
}

/// What an order event asks of its reservation.
enum OrderStep {
    /// Paid: commit it, if still active.
    Commit { order: String },
    /// Expired or cancelled: release it if active; if it was committed already and
    /// `restock` is set, put `lines` back.
    Release {
        order: String,
        verb: &'static str,
        restock: Option<Vec<Line>>,
    },
    /// Refunded with units to put back.
    Restock {
        order: String,
        refund: String,
        lines: Vec<Line>,
    },
}

impl OrderStep {
    /// The step and the reservation it applies to; `None` when the event moves no stock.
    fn from_event(event: &Envelope) -> Result<Option<(ReservationId, Self)>, HandlerError> {
        if event.name == REFUND_COMPLETED {
            let refund: RefundCompleted = event.payload_as()?;
            let (Some(reservation), false) =
                (refund.reservation_id, refund.restock_lines.is_empty())
            else {
                return Ok(None);
            };
            let step = Self::Restock {
                lines: lines_of(&refund.restock_lines),
                order: refund.order_id.to_string(),
                refund: refund.refund_id.to_string(),
            };
            return Ok(Some((reservation, step)));
        }
        let order: OrderChanged = event.payload_as()?;
        let Some(reservation) = order.reservation_id else {
            return Ok(None);
        };
        let step = match event.name.as_str() {
            ORDER_PAID => Self::Commit {
                order: order.order_id.to_string(),
            },
            ORDER_EXPIRED | ORDER_CANCELLED => Self::Release {
                verb: if event.name == ORDER_EXPIRED {
                    "expired"
                } else {
                    "cancelled"
                },
                restock: order.restock.then(|| lines_of(&order.lines)),
                order: order.order_id.to_string(),
            },
            _ => return Ok(None),
        };
        Ok(Some((reservation, step)))
    }
}

/// Commits, releases and restocks the reservations behind orders, as orders' own service
/// (`svc_orders`). Idempotent through the inbox; a reservation already where the event would
/// take it, or one this shop does not have, is left alone.
pub struct OrderStock(pub InventoryState);

fn order_actor() -> String {
    Actor::Service(ServiceName::Orders).label()
}

fn handler_error(error: MovementError) -> HandlerError {
    match error {
        MovementError::Db(e) => HandlerError::Db(e),
        other => HandlerError::Other(anyhow::Error::new(other)),
    }
}

impl OrderStock {
    /// Applies one event in `tx`, once.
    async fn apply(&self, tx: &TenantTx, event: &Envelope) -> Result<(), HandlerError> {
        let Some((reservation, step)) = OrderStep::from_event(event)? else {
            return Ok(());
        };
        if !mercato_events::mark_processed(&**tx, ORDER_STOCK, event).await? {
            return Ok(());
        }
        self.run(tx, event, reservation, step, &mut Locked::default(), None)
            .await
    }

    /// Carries out one new event's step; `locked` may hold its reservation, read under its
    /// variants' locks. With `commits`, a commit of a reservation from `locked` is held
    /// back there (the batch flushes it), and any other step flushes what is held first.
    async fn run(
        &self,
        tx: &TenantTx,
        event: &Envelope,
        reservation: ReservationId,
        step: OrderStep,
        locked: &mut Locked,
        mut commits: Option<&mut Commits>,
    ) -> Result<(), HandlerError> {
        // Taken whatever the step: a later event of the batch about the same reservation
        // reads it afresh.
        let preloaded = locked.take(reservation);
        let now = movements::now();
        // The order was paid when the event occurred, however late it arrives.
        let paid_at = event.occurred_at.min(now);
        let actor = order_actor();
        let held_back = matches!(step, OrderStep::Commit { .. }) && preloaded.is_some();
        if !held_back && let Some(commits) = commits.as_deref_mut() {
            commits.flush(tx, now).await.map_err(handler_error)?;
        }
        match step {
            OrderStep::Commit { order } => {
                let ended = match (preloaded, commits) {
                    (Some((current, variants)), Some(commits)) => commits
                        .commit(tx, current, variants, paid_at, now)
                        .await
                        .map(Some),
                    (preloaded, _) => {
                        end_commit(tx, reservation, &actor, paid_at, now, preloaded).await
                    }
                };
                committed(ended, reservation, &order)?;
            }
            OrderStep::Release {
                order,
                verb,
                restock,
            } => {
                let ended = movements::end(tx, reservation, End::Release, &actor, now).await;
                match ended {
                    Err(MovementError::Ended(Status::Committed)) => {
                        if let Some(lines) = restock {
                            let note = format!("order {order} {verb}");
                            put_back(tx, reservation, &lines, note, &actor, now).await?;
                        }
                    }
                    Err(error) => return Err(handler_error(error)),
                    Ok(None) => unknown(reservation, &order),
                    Ok(Some(_)) => {}
                }
            }
            OrderStep::Restock {
                order,
                refund,
                lines,
            } => {
                // A refund proves the order was paid, in time: commit first if that news
                // has not arrived (judged as of the dawn of time, it cannot have run out).
                let in_time = chrono::DateTime::<chrono::Utc>::MIN_UTC;
                let ended = end_commit(tx, reservation, &actor, in_time, now, preloaded).await;
                if committed(ended, reservation, &order)? {
                    let note = format!("order {order} refund {refund}");
                    put_back(tx, reservation, &lines, note, &actor, now).await?;
                }
            }
        }
        Ok(())
    }
}

/// A batch's reservations, read under the locks of their variants (`variants`). Each is
/// handed out once.
#[derive(Default)]
struct Locked {
    reservations: HashMap<ReservationId, Reservation>,
    variants: Vec<Variant>,
}

impl Locked {
    /// `id`'s reservation and its variants, if read here and not handed out yet.
    fn take(&mut self, id: ReservationId) -> Option<(Reservation, Vec<Variant>)> {
        let reservation = self.reservations.remove(&id)?;
        let ids = reservation.variants();
        let variants = self
            .variants
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect();
        Some((reservation, variants))
    }
}

#[async_trait]
impl Handler for OrderStock {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        self.apply(&tx, event).await?;
        tx.commit().await?;
        self.0.outbox.notify_one();
        Ok(())
    }

    /// A burst of orders (one `order.paid` per checkout) in one transaction per shop. Every
    /// variant the batch moves is locked first, in one statement in id order as every
    /// movement locks, so the batch cannot wait in a circle with a checkout's reservation.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in mercato_events::by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            let mut steps = Vec::new();
            for event in events {
                if let Some((reservation, step)) = OrderStep::from_event(event)? {
                    steps.push((event, reservation, step));
                }
            }
            // The inbox for the whole batch, then only the new events.
            let envelopes: Vec<&Envelope> = steps.iter().map(|(e, _, _)| *e).collect();
            let fresh = mercato_events::mark_processed_all(&*tx, ORDER_STOCK, &envelopes).await?;
            let steps: Vec<_> = steps
                .into_iter()
                .zip(fresh)
                .filter_map(|(step, fresh)| fresh.then_some(step))
                .collect();
            // Every variant the batch may move, locked in id order before anything moves
            // (so a batch cannot deadlock with a reservation), and the reservations read
            // before and again under those locks.
            let mut ids: Vec<ReservationId> = steps.iter().map(|(_, r, _)| *r).collect();
            ids.sort();
            ids.dedup();
            let first_look = repo::reservations::find_many(&tx, &ids).await?;
            let mut variants: Vec<VariantId> = first_look
                .values()
                .flat_map(Reservation::variants)
                .collect();
            for (_, _, step) in &steps {
                if let OrderStep::Restock { lines, .. }
                | OrderStep::Release {
                    restock: Some(lines),
                    ..
                } = step
                {
                    variants.extend(lines.iter().map(|l| l.variant));
                }
            }
            let mut locked = Locked {
                variants: repo::mirror::lock_variants(&tx, &variants).await?,
                reservations: repo::reservations::find_many(&tx, &ids).await?,
            };
            // The batch's commits are written together, after its last step at the latest.
            let mut commits = Commits::new(order_actor());
            for (event, reservation, step) in steps {
                self.run(
                    &tx,
                    event,
                    reservation,
                    step,
                    &mut locked,
                    Some(&mut commits),
                )
                .await?;
            }
            commits
                .flush(&tx, movements::now())
                .await
                .map_err(handler_error)?;
            tx.commit().await?;
        }
        self.0.outbox.notify_one();
        Ok(())
    }
}

fn unknown(reservation: ReservationId, order: &str) {
    tracing::warn!(
        reservation_id = %reservation, order_id = order,
        "order event names a reservation this shop does not have; nothing to do"
    );
}

/// Commits the paid order's reservation at once if it is still active (see [`committed`]).
async fn end_commit(
    tx: &TenantTx,
    reservation: ReservationId,
    actor: &str,
    paid_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    preloaded: Option<(Reservation, Vec<Variant>)>,
) -> Result<Option<Ended>, MovementError> {
    match preloaded {
        Some((current, variants)) => {
            movements::end_locked(tx, current, &variants, End::Commit, actor, paid_at, now)
                .await
                .map(Some)
        }
        None => movements::end_as_of(tx, reservation, End::Commit, actor, paid_at, now).await,
    }
}

/// What a commit of the paid order's reservation came to: true when it is committed (now,
/// with the batch, or before).
fn committed(
    ended: Result<Option<Ended>, MovementError>,
    reservation: ReservationId,
    order: &str,
) -> Result<bool, HandlerError> {
    match ended {
        Ok(Some(Ended::Done(_) | Ended::Already(_))) => Ok(true),
        Ok(Some(Ended::ExpiredInstead(_) | Ended::NotYet(_))) => {
            tracing::warn!(
                reservation_id = %reservation, order_id = order,
                "order was paid after its reservation ran out; its units were released"
            );
            Ok(false)
        }
        Ok(None) => {
            unknown(reservation, order);
            Ok(false)
        }
        Err(MovementError::Ended(status)) => {
            tracing::warn!(
                reservation_id = %reservation, order_id = order, status = status.code(),
                "order was paid but its reservation had ended; nothing committed"
            );
            Ok(false)
        }
        Err(error) => Err(handler_error(error)),
    }
}

/// Puts a committed reservation's units back where they came from.
async fn put_back(
    tx: &TenantTx,
    reservation: ReservationId,
    lines: &[Line],
    note: String,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), HandlerError> {
    let request = RestockRequest {
        reservation,
        lines,
        note,
        actor,
    };
    match movements::restock(tx, request, now)
        .await
        .map_err(handler_error)?
    {
        Some(Restocked::Done { unplaced, .. }) if !unplaced.is_empty() => {
            tracing::warn!(
                reservation_id = %reservation, lines = ?unplaced,
                "some units to restock were never taken by the reservation or are back already"
            );
        }
        Some(Restocked::NotCommitted(status)) => {
            tracing::debug!(
                reservation_id = %reservation, status = status.code(),
                "reservation was not committed: its units never left"
            );
        }
        Some(Restocked::Done { .. }) | None => {}
    }
    Ok(())
}
