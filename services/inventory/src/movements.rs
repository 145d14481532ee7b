//! Stock movements — adjusting, reserving, committing, releasing, expiring, restocking a
//! cancelled or refunded order — each in the caller's transaction, with the events it causes written to the outbox in it.
//!
//! Locking, the same in every movement: first the variants moved, in id order
//! ([`repo::mirror::lock_variants`]), then their stock rows. On PostgreSQL these are row
//! locks (`SELECT … FOR UPDATE`), so movements of one variant run one after another and
//! movements of different variants in parallel, and no two ever wait on each other in a
//! circle. On SQLite every write transaction holds the database's write lock from its
//! start (`BEGIN IMMEDIATE`), so movements run one after another anyway. Either way each
//! level changes by a guarded relative update ([`repo::stock::change_level`]) and the
//! schema's `CHECK (0 <= reserved <= on_hand)` holds as a last wall.

use crate::domain::reservation::{self, Ending, Line, Reservation, ReservedLine, Shortage, Status};
use crate::domain::restock;
use crate::domain::stock::{Change, Level, Reason, StockError, low_stock};
use crate::domain::vendor::{MirroredVendor, NotSelling};
use crate::domain::warehouse::Warehouse;
use crate::domain::{AdjustmentId, ReservationId, Variant, WarehouseId};
use crate::repo::stock::Adjustment;
use crate::{events, expiry, repo};
use chrono::{DateTime, NaiveDate, Utc};
use mercato_db::TenantTx;
use mercato_events::Envelope;
use mercato_kernel::FieldError;
use mercato_tenant_context::{VariantId, VendorId};
use sea_orm::DbErr;
use std::collections::HashMap;

/// The current instant at the precision both databases keep (microseconds), so what a
/// response shows is what a later read returns.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Who did it, when the expiry job did.
pub const SYSTEM_ACTOR: &str = "system";

/// Why a movement did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MovementError {
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Fields of the request name something that cannot move (422).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The stock level does not allow it (409).
    #[error(transparent)]
    Stock(#[from] StockError),
    /// Some lines cannot be covered; nothing was reserved (409).
    #[error("not enough stock for {} line(s)", .0.len())]
    Short(Vec<Shortage>),
    /// The vendors of these lines are suspended or rejected: they sell nothing (409).
    #[error("the vendor of {} line(s) is not selling", .0.len())]
    NotSelling(Vec<FieldError>),
    /// The vendors of these lines are on holiday: they take orders again on the days of
    /// `back_on`, in order, each once (409).
    #[error("the vendor of {} line(s) is on holiday", .errors.len())]
    OnHoliday {
        back_on: Vec<NaiveDate>,
        errors: Vec<FieldError>,
    },
    /// The reservation is past the point where this is possible (409).
    #[error("the reservation is {}", .0.code())]
    Ended(Status),
    /// A line names a variant of a vendor the caller may not reserve for (404: to a vendor's
    /// staff, another vendor's stock does not exist).
    #[error("a line names another vendor's variant")]
    OtherVendor,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> MovementError {
    MovementError::Invalid(vec![FieldError::new(field, message)])
}

/// After levels of `variants` changed: their totals to the outbox (`stock.changed`), and
/// their low-stock state updated, alerting (`stock.low`) on a crossing.
/// Their totals are read in one statement and their events written in one, followed by
/// `then` (the event of the movement itself, when it has one).
pub async fn after_change(
    tx: &TenantTx,
    variants: &[Variant],
    then: Option<Envelope>,
) -> Result<(), DbErr> {
    let keys: Vec<(VariantId, VendorId)> = variants.iter().map(|v| (v.id, v.vendor)).collect();
    let totals = repo::stock::totals_of(tx, &keys).await?;
    let mut outbox = Vec::with_capacity(variants.len());
    for variant in variants {
        let totals = totals.get(&variant.id).copied().unwrap_or_default();
        let state = low_stock(
            variant.low_stock_threshold,
            variant.low_stock,
            totals.available,
        );
        if state.low != variant.low_stock {
            repo::mirror::save_low_stock(tx, variant.id, variant.low_stock_threshold, state.low)
                .await?;
        }
        outbox.push(events::stock_changed(tx.tenant(), variant, totals)?);
        if state.alert
            && let Some(threshold) = variant.low_stock_threshold
        {
            outbox.push(events::stock_low(
                tx.tenant(),
                variant,
                totals.available,
                threshold,
            )?);
        }
    }
    outbox.extend(then);
    mercato_events::enqueue_all(&**tx, &outbox).await
}

/// The variant, locked, if the warehouse's vendor may stock it.
async fn stockable(
    tx: &TenantTx,
    warehouse: &Warehouse,
    variant: VariantId,
) -> Result<Variant, MovementError> {
    repo::mirror::lock_variants(tx, &[variant])
        .await?
        .into_iter()
        .find(|v| !v.deleted && v.vendor == warehouse.vendor)
        .ok_or_else(|| invalid("/variant_id", "no such variant of this warehouse's vendor"))
}

/// An adjustment a client asks for.
pub struct AdjustmentRequest<'a> {
    pub warehouse: &'a Warehouse,
    pub variant: VariantId,
    pub change: Change,
    pub reason: Reason,
    pub note: Option<String>,
    pub actor: &'a str,
}

/// Changes on hand in one warehouse, recording why.
pub async fn adjust(
    tx: &TenantTx,
    request: AdjustmentRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(Adjustment, Level), MovementError> {
    let warehouse = request.warehouse;
    let variant = stockable(tx, warehouse, request.variant).await?;
    repo::stock::ensure_level(tx, warehouse.id, variant.id, now).await?;
    let current = repo::stock::lock_level(tx, warehouse.id, variant.id)
        .await?
        .unwrap_or_default();
    let delta = request.change.delta(current);
    let field = match request.change {
        Change::Delta(_) => "/delta",
        Change::Count(_) => "/on_hand",
    };
    if let (Change::Count(n), 0) = (request.change, delta) {
        return Err(invalid(field, format!("on hand is already {n}")));
    }
    request
        .reason
        .check_delta(delta)
        .map_err(|m| invalid(field, m))?;
    match current.adjusted(delta) {
        Err(StockError::TooMuch) => return Err(invalid(field, StockError::TooMuch.to_string())),
        other => other?,
    };
    let level = repo::stock::change_level(tx, warehouse.id, variant.id, delta, 0, now)
        .await?
        // The level is locked: the check above and the guard agree.
        .ok_or(MovementError::Stock(StockError::BelowReserved {
            on_hand: current.on_hand + delta,
            reserved: current.reserved,
        }))?;
    let adjustment = Adjustment {
        id: AdjustmentId::new(),
        warehouse: warehouse.id,
        variant: variant.id,
        delta,
        reason: request.reason,
        note: request.note,
        on_hand_after: level.on_hand,
        reservation: None,
        actor: request.actor.to_owned(),
        at: now,
    };
    repo::stock::record(tx, &adjustment).await?;
    after_change(tx, &[variant], None).await?;
    Ok((adjustment, level))
}

/// A reservation a client asks for; its lines name each variant once.
pub struct ReservationRequest<'a> {
    pub lines: &'a [Line],
    pub ttl: chrono::Duration,
    pub reference: Option<String>,
    pub actor: &'a str,
    /// `Some`: only these vendors' variants may be held (a vendor's staff reserving its own
    /// stock); a line of any other vendor refuses the whole request. `None`: any vendor's (the
    /// orders service, merchant staff).
    pub vendors: Option<&'a [VendorId]>,
    /// The shops' expiry sweeps this process knows to be queued.
    pub sweeps: &'a mercato_jobs::SweepsQueued,
}

/// Reserves every line, or nothing (see `domain::reservation` for the strategy).
pub async fn reserve(
    tx: &TenantTx,
    request: ReservationRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Reservation, MovementError> {
    let ids: Vec<VariantId> = request.lines.iter().map(|l| l.variant).collect();
    let (variants, vendors) = repo::mirror::lock_variants_and_vendors(tx, &ids).await?;
    // Judged on the rows just locked, so the vendor check costs no statement of its own;
    // before any other check, so a refusal says nothing about another vendor's stock.
    if let Some(own) = request.vendors
        && variants.iter().any(|v| !own.contains(&v.vendor))
    {
        return Err(MovementError::OtherVendor);
    }
    let unknown: Vec<FieldError> = request
        .lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !variants.iter().any(|v| v.id == line.variant && !v.deleted))
        .map(|(i, _)| FieldError::new(format!("/lines/{i}/variant_id"), "no such variant"))
        .collect();
    if !unknown.is_empty() {
        return Err(MovementError::Invalid(unknown));
    }
    refuse_vendors_not_selling(request.lines, &variants, &vendors, now.date_naive())?;
    let stock = repo::stock::candidates(tx, &ids).await?;
    let allocations =
        reservation::allocate_all(request.lines, &stock).map_err(MovementError::Short)?;
    let lines: Vec<ReservedLine> = request
        .lines
        .iter()
        .zip(allocations)
        .map(|(line, allocations)| ReservedLine {
            variant: line.variant,
            quantity: line.quantity,
            allocations,
        })
        .collect();
    let reservation = Reservation {
        id: ReservationId::new(),
        status: Status::Active,
        reference: request.reference,
        created_by: request.actor.to_owned(),
        lines,
        expires_at: now + request.ttl,
        created_at: now,
        updated_at: now,
        ended_at: None,
        ended_by: None,
    };
    let changes: Vec<_> = reservation
        .holdings()
        .into_iter()
        .map(|(warehouse, variant, quantity)| (warehouse, variant, 0, quantity))
        .collect();
    repo::stock::change_levels(tx, &changes, now)
        .await?
        // Allocated from levels read under the variants' locks: cannot be refused.
        .ok_or_else(|| DbErr::Custom("a locked stock level changed under its lock".into()))?;
    repo::reservations::insert(tx, &reservation).await?;
    expiry::schedule(tx, request.sweeps, &reservation).await?;
    let created = events::reservation(
        "reservation.created",
        tx.tenant(),
        &reservation,
        &variants,
        request.actor,
    )?;
    after_change(tx, &variants, Some(created)).await?;
    Ok(reservation)
}

/// Refuses the request when a line's vendor is not selling `today` (the shop's day, UTC):
/// stopped (suspended or rejected) or on holiday. Each such line is named; when any vendor
/// is stopped the refusal is `NotSelling`, else `OnHoliday` with the days they are back.
fn refuse_vendors_not_selling(
    lines: &[Line],
    variants: &[Variant],
    vendors: &HashMap<VendorId, MirroredVendor>,
    today: NaiveDate,
) -> Result<(), MovementError> {
    let mut errors = Vec::new();
    let mut stopped = false;
    let mut back_on: Vec<NaiveDate> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let why = variants
            .iter()
            .find(|v| v.id == line.variant)
            .and_then(|v| vendors.get(&v.vendor))
            .and_then(|vendor| vendor.not_selling_on(today));
        let field = format!("/lines/{i}/variant_id");
        match why {
            None => continue,
            Some(NotSelling::Stopped) => {
                stopped = true;
                errors.push(FieldError::new(
                    field,
                    "its vendor is suspended and sells nothing",
                ));
            }
            Some(NotSelling::OnHoliday { back_on: back }) => {
                back_on.push(back);
                errors.push(FieldError::new(
                    field,
                    format!("its vendor is on holiday and takes orders again on {back}"),
                ));
            }
        }
    }
    if stopped {
        return Err(MovementError::NotSelling(errors));
    }
    if errors.is_empty() {
        return Ok(());
    }
    back_on.sort();
    back_on.dedup();
    Err(MovementError::OnHoliday { back_on, errors })
}

/// How a reservation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Paid: its units leave on hand.
    Commit,
    /// Cancelled: its units are available again.
    Release,
    /// Timed out (the expiry job): its units are available again.
    Expire,
}

/// What ending a reservation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It moved to the asked-for state.
    Done(Reservation),
    /// It already was there (or equivalent): nothing changed.
    Already(Reservation),
    /// A commit came too late: it was expired instead (commit this, then refuse).
    ExpiredInstead(Reservation),
    /// The expiry job came early: nothing changed, try later.
    NotYet(Reservation),
}

/// Ends `id` (which the caller may see) as `how`. `None`: there is no such reservation.
pub async fn end(
    tx: &TenantTx,
    id: ReservationId,
    how: End,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Ended>, MovementError> {
    end_as_of(tx, id, how, actor, now, now).await
}

/// [`end`], judging whether the reservation ran out as of `as_of` rather than now: an order
/// paid before its reservation's time was up is committed even when the news arrives late
/// (the expiry job has not ended it yet, or the commit is a no-op).
pub async fn end_as_of(
    tx: &TenantTx,
    id: ReservationId,
    how: End,
    actor: &str,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Ended>, MovementError> {
    let Some(first_look) = repo::reservations::find(tx, id).await? else {
        return Ok(None);
    };
    let variants = repo::mirror::lock_variants(tx, &first_look.variants()).await?;
    // Read again under the locks: anything that ended it meanwhile has committed by now.
    let Some(current) = repo::reservations::find(tx, id).await? else {
        return Ok(None);
    };
    end_locked(tx, current, &variants, how, actor, as_of, now)
        .await
        .map(Some)
}

/// [`end_as_of`] for a reservation `current` read under the locks of its `variants` (a
/// caller that locked and read many at once).
pub async fn end_locked(
    tx: &TenantTx,
    current: Reservation,
    variants: &[Variant],
    how: End,
    actor: &str,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Ended, MovementError> {
    let ending = match how {
        End::Commit => reservation::commit(current.status, current.expires_at, as_of),
        End::Release => reservation::release(current.status),
        End::Expire => reservation::expire(current.status, current.expires_at, as_of),
    };
    match ending {
        Ending::AlreadyDone => Ok(Ended::Already(current)),
        Ending::Refuse(Status::Active) => Ok(Ended::NotYet(current)),
        Ending::Refuse(status) => Err(MovementError::Ended(status)),
        Ending::Apply => {
            let done = apply_end(tx, current, variants, how, actor, now).await?;
            Ok(Ended::Done(done))
        }
        Ending::ExpireInstead => {
            let expired = apply_end(tx, current, variants, End::Expire, SYSTEM_ACTOR, now).await?;
            Ok(Ended::ExpiredInstead(expired))
        }
    }
}

/// Commits of reservations read under their variants' locks, held back so that a batch of
/// them is written together by [`Commits::flush`]: the reservations in one update, their
/// levels in one, their `sold` adjustments and their events in one insert each. Whatever
/// else moves stock in the same transaction must flush them first, so it sees them written,
/// and so must the transaction before it commits.
pub struct Commits {
    actor: String,
    pending: Vec<(Reservation, Vec<Variant>)>,
}

impl Commits {
    /// Commits ended by `actor`.
    pub fn new(actor: String) -> Self {
        Self {
            actor,
            pending: Vec::new(),
        }
    }

    /// [`end_locked`] with [`End::Commit`] for `current`, read under the locks of its
    /// `variants`. A commit to apply is held back for the next flush (and reported done);
    /// anything else flushes first and ends the reservation at once.
    pub async fn commit(
        &mut self,
        tx: &TenantTx,
        current: Reservation,
        variants: Vec<Variant>,
        as_of: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Ended, MovementError> {
        if reservation::commit(current.status, current.expires_at, as_of) != Ending::Apply {
            self.flush(tx, now).await?;
            return end_locked(tx, current, &variants, End::Commit, &self.actor, as_of, now).await;
        }
        Ok(Ended::Done(self.hold(current, variants, now)))
    }

    /// Holds back the commit of `reservation` (active, and locked with its `variants`);
    /// returns it as it is once committed.
    fn hold(
        &mut self,
        mut reservation: Reservation,
        variants: Vec<Variant>,
        now: DateTime<Utc>,
    ) -> Reservation {
        reservation.status = Status::Committed;
        reservation.updated_at = now;
        reservation.ended_at = Some(now);
        reservation.ended_by = Some(self.actor.clone());
        self.pending.push((reservation.clone(), variants));
        reservation
    }

    /// Writes the commits held back, as of `now`.
    pub async fn flush(&mut self, tx: &TenantTx, now: DateTime<Utc>) -> Result<(), MovementError> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let ids: Vec<ReservationId> = pending.iter().map(|(r, _)| r.id).collect();
        if !repo::reservations::end_many(tx, &ids, Status::Committed, &self.actor, now).await? {
            return Err(DbErr::Custom("a locked reservation ended under its lock".into()).into());
        }
        // Each level once, with the sum of what the commits take off it.
        let mut changes: Vec<(WarehouseId, VariantId, i64, i64)> = Vec::new();
        for (reservation, _) in &pending {
            for (warehouse, variant, quantity) in reservation.holdings() {
                match changes
                    .iter_mut()
                    .find(|(w, v, _, _)| (*w, *v) == (warehouse, variant))
                {
                    Some(change) => {
                        change.2 -= quantity;
                        change.3 -= quantity;
                    }
                    None => changes.push((warehouse, variant, -quantity, -quantity)),
                }
            }
        }
        let levels = repo::stock::change_levels(tx, &changes, now)
            .await?
            .ok_or(MovementError::Stock(StockError::ReservedMismatch))?;
        // Each `sold` row says what was on hand right after it: the level's end state, less
        // what the later commits of the batch took.
        let mut on_hand: HashMap<(WarehouseId, VariantId), i64> = changes
            .iter()
            .zip(&levels)
            .map(|(&(w, v, _, _), level)| ((w, v), level.on_hand))
            .collect();
        let mut sold = Vec::new();
        for (reservation, _) in pending.iter().rev() {
            for (warehouse, variant, quantity) in reservation.holdings().into_iter().rev() {
                let after = on_hand.entry((warehouse, variant)).or_default();
                sold.push(Adjustment {
                    id: AdjustmentId::new(),
                    warehouse,
                    variant,
                    delta: -quantity,
                    reason: Reason::Sold,
                    note: reservation.reference.clone(),
                    on_hand_after: *after,
                    reservation: Some(reservation.id),
                    actor: self.actor.clone(),
                    at: now,
                });
                *after += quantity;
            }
        }
        sold.reverse();
        repo::stock::record_all(tx, &sold).await?;
        let events = pending
            .iter()
            .map(|(reservation, variants)| {
                events::reservation(
                    "reservation.committed",
                    tx.tenant(),
                    reservation,
                    variants,
                    &self.actor,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        mercato_events::enqueue_all(&**tx, &events).await?;
        Ok(())
    }
}

async fn apply_end(
    tx: &TenantTx,
    mut reservation: Reservation,
    variants: &[Variant],
    how: End,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Reservation, MovementError> {
    let (status, event) = match how {
        // A commit takes the units off on hand and off reserved alike: what can be sold (and
        // so the low-stock state) is unchanged, and `reservation.committed` says what left.
        End::Commit => {
            let mut commits = Commits::new(actor.to_owned());
            let done = commits.hold(reservation, variants.to_vec(), now);
            commits.flush(tx, now).await?;
            return Ok(done);
        }
        End::Release => (Status::Released, "reservation.released"),
        End::Expire => (Status::Expired, "reservation.expired"),
    };
    // A release or an expiry gives the units back to sell.
    if !repo::reservations::end(tx, reservation.id, status, actor, now).await? {
        return Err(DbErr::Custom("a locked reservation ended under its lock".into()).into());
    }
    let changes: Vec<_> = reservation
        .holdings()
        .into_iter()
        .map(|(warehouse, variant, quantity)| (warehouse, variant, 0, -quantity))
        .collect();
    repo::stock::change_levels(tx, &changes, now)
        .await?
        .ok_or(MovementError::Stock(StockError::ReservedMismatch))?;
    reservation.status = status;
    reservation.updated_at = now;
    reservation.ended_at = Some(now);
    reservation.ended_by = Some(actor.to_owned());
    let ended = events::reservation(event, tx.tenant(), &reservation, variants, actor)?;
    after_change(tx, variants, Some(ended)).await?;
    Ok(reservation)
}

/// Sold units a cancelled or refunded order gives back.
pub struct RestockRequest<'a> {
    /// The reservation the order's units were committed from.
    pub reservation: ReservationId,
    pub lines: &'a [Line],
    /// Why, for the history (`order ord_… cancelled`).
    pub note: String,
    pub actor: &'a str,
}

/// What a restock did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restocked {
    /// The units went back where the reservation took them from (one `returned` adjustment
    /// per warehouse and variant); `unplaced` had nowhere to go (see `domain::restock`).
    Done {
        adjustments: Vec<Adjustment>,
        unplaced: Vec<Line>,
    },
    /// The reservation was never committed: its units never left on hand.
    NotCommitted(Status),
}

/// Puts sold units of a committed reservation back into the warehouses they came from.
/// `None`: there is no such reservation.
pub async fn restock(
    tx: &TenantTx,
    request: RestockRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Restocked>, MovementError> {
    let Some(first_look) = repo::reservations::find(tx, request.reservation).await? else {
        return Ok(None);
    };
    let variants = repo::mirror::lock_variants(tx, &first_look.variants()).await?;
    // Read again under the locks, with what earlier restocks returned.
    let Some(current) = repo::reservations::find(tx, request.reservation).await? else {
        return Ok(None);
    };
    if current.status != Status::Committed {
        return Ok(Some(Restocked::NotCommitted(current.status)));
    }
    let returned = repo::stock::returned_for(tx, current.id).await?;
    let plan = restock::plan(&current, &returned, request.lines);
    let mut adjustments = Vec::with_capacity(plan.placements.len());
    for placement in &plan.placements {
        let current_level = repo::stock::lock_level(tx, placement.warehouse, placement.variant)
            .await?
            .unwrap_or_default();
        current_level.adjusted(placement.quantity)?;
        let level = repo::stock::change_level(
            tx,
            placement.warehouse,
            placement.variant,
            placement.quantity,
            0,
            now,
        )
        .await?
        // The reservation's allocation made the row; adding on hand passes the guard.
        .ok_or_else(|| DbErr::Custom("a sold-from stock level is missing".into()))?;
        let adjustment = Adjustment {
            id: AdjustmentId::new(),
            warehouse: placement.warehouse,
            variant: placement.variant,
            delta: placement.quantity,
            reason: Reason::Returned,
            note: Some(request.note.clone()),
            on_hand_after: level.on_hand,
            reservation: Some(current.id),
            actor: request.actor.to_owned(),
            at: now,
        };
        repo::stock::record(tx, &adjustment).await?;
        adjustments.push(adjustment);
    }
    let moved: Vec<Variant> = variants
        .into_iter()
        .filter(|v| plan.placements.iter().any(|p| p.variant == v.id))
        .collect();
    after_change(tx, &moved, None).await?;
    Ok(Some(Restocked::Done {
        adjustments,
        unplaced: plan.unplaced,
    }))
}

/// Sets (or clears) a variant's low-stock threshold, re-evaluating its state at once.
pub async fn set_threshold(
    tx: &TenantTx,
    variant: &Variant,
    threshold: Option<i64>,
) -> Result<Variant, DbErr> {
    let totals = repo::stock::totals(tx, variant.id, variant.vendor).await?;
    let state = low_stock(
        threshold,
        variant.low_stock && threshold.is_some(),
        totals.available,
    );
    repo::mirror::save_low_stock(tx, variant.id, threshold, state.low).await?;
    let updated = Variant {
        low_stock_threshold: threshold,
        low_stock: state.low,
        ..variant.clone()
    };
    if state.alert
        && let Some(threshold) = threshold
    {
        let alert = events::stock_low(tx.tenant(), &updated, totals.available, threshold)?;
        mercato_events::enqueue(&**tx, &alert).await?;
    }
    Ok(updated)
}

/// After a warehouse was switched on or off: what its variants have available changed.
pub async fn warehouse_toggled(tx: &TenantTx, warehouse: &Warehouse) -> Result<(), DbErr> {
    let ids = repo::stock::variants_in_warehouse(tx, warehouse.id).await?;
    let variants = repo::mirror::lock_variants(tx, &ids).await?;
    after_change(tx, &variants, None).await
}
