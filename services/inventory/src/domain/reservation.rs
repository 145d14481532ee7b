//! Reservations: units held for a checkout for a while, then committed (sold), released
//! (cancelled) or expired.
//!
//! **Allocation strategy.** Each line is taken from the variant's vendor's *active*
//! warehouses, the one with the most available units first (ties: the older warehouse),
//! moving on to the next only for what the first cannot cover. So a line that one warehouse
//! can fill ships from one place, and one that none can fill alone is split over as few
//! warehouses as the greedy order allows. A reservation is all or nothing: if any line
//! cannot be covered by everything available, nothing is reserved and every short line is
//! named.

use super::WarehouseId;
use super::stock::Level;
use chrono::{DateTime, Duration, Utc};
use mercato_tenant_context::VariantId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long a reservation holds its units when the client does not say.
pub const DEFAULT_TTL_SECS: i64 = 15 * 60;
/// The longest a reservation may hold units: a checkout that has not been paid in an hour
/// should give the stock back to other shoppers.
pub const MAX_TTL_SECS: i64 = 60 * 60;
/// Lines per reservation and units per line.
pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Holding its units until it expires.
    Active,
    /// Paid: its units left on hand.
    Committed,
    /// Cancelled: its units are available again.
    Released,
    /// Not committed in time: its units are available again.
    Expired,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Active, Self::Committed, Self::Released, Self::Expired]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// Units held for one checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: super::ReservationId,
    pub status: Status,
    /// The client's own reference (an order or cart id).
    pub reference: Option<String>,
    /// Who asked for it: `usr_…`, `key_…` or `svc_orders`. Only they and merchant staff see it.
    pub created_by: String,
    pub lines: Vec<ReservedLine>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When and by whom it was committed, released or expired.
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
}

/// One line of a reservation and where its units are held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedLine {
    pub variant: VariantId,
    pub quantity: i64,
    pub allocations: Vec<Allocation>,
}

impl Reservation {
    /// Every (warehouse, variant, quantity) it holds, in lock order (variant, warehouse).
    pub fn holdings(&self) -> Vec<(WarehouseId, VariantId, i64)> {
        let mut held: Vec<_> = self
            .lines
            .iter()
            .flat_map(|line| {
                line.allocations
                    .iter()
                    .map(move |a| (a.warehouse_id, line.variant, a.quantity))
            })
            .collect();
        held.sort_by_key(|(w, v, _)| (*v, *w));
        held
    }

    pub fn variants(&self) -> Vec<VariantId> {
        self.lines.iter().map(|l| l.variant).collect()
    }
}

/// What to do when asked to end a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Move its units and change its status.
    Apply,
    /// Already in the asked-for state (or an equivalent one): answer as before, change nothing.
    AlreadyDone,
    /// It ran out of time before the commit: expire it instead, and refuse the commit.
    ExpireInstead,
    /// It cannot get there from where it is.
    Refuse(Status),
}

/// Committing (on payment) works on an active reservation that has not run out of time.
pub fn commit(status: Status, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Ending {
    match status {
        Status::Active if now >= expires_at => Ending::ExpireInstead,
        Status::Active => Ending::Apply,
        Status::Committed => Ending::AlreadyDone,
        other => Ending::Refuse(other),
    }
}

/// Releasing (on cancel) works on an active reservation; one already given back is fine.
pub fn release(status: Status) -> Ending {
    match status {
        Status::Active => Ending::Apply,
        Status::Released | Status::Expired => Ending::AlreadyDone,
        Status::Committed => Ending::Refuse(Status::Committed),
    }
}

/// The expiry job's question: is it time to give the units back?
pub fn expire(status: Status, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Ending {
    match status {
        Status::Active if now >= expires_at => Ending::Apply,
        // Not yet: the job ran early (clock skew); it is retried.
        Status::Active => Ending::Refuse(Status::Active),
        _ => Ending::AlreadyDone,
    }
}

/// The time to live a client asked for, in seconds, checked.
pub fn ttl(seconds: Option<i64>) -> Result<Duration, &'static str> {
    match seconds.unwrap_or(DEFAULT_TTL_SECS) {
        s if (1..=MAX_TTL_SECS).contains(&s) => Ok(Duration::seconds(s)),
        _ => Err("from 1 to 3600 seconds"),
    }
}

pub fn check_quantity(quantity: i64) -> Result<(), &'static str> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err("a whole number of units from 1 to 100000")
    }
}

/// A client reference (an order or cart id): 1-100 visible ASCII characters.
pub fn check_reference(reference: &str) -> Result<(), &'static str> {
    if !reference.is_empty()
        && reference.len() <= 100
        && reference.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err("1 to 100 visible ASCII characters")
    }
}

/// One warehouse's stock of a variant a line may draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub warehouse: WarehouseId,
    pub level: Level,
}

/// Units of one line taken from one warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Allocation {
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
}

/// One asked-for line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub variant: VariantId,
    pub quantity: i64,
}

/// A line that cannot be covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortage {
    /// Its position in the request.
    pub line: usize,
    pub variant: VariantId,
    pub requested: i64,
    pub available: i64,
}

/// Takes `quantity` from `candidates` by the strategy above, or says how much there is.
pub fn allocate(quantity: i64, candidates: &[Candidate]) -> Result<Vec<Allocation>, i64> {
    let mut order: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.level.available() > 0)
        .collect();
    order.sort_by(|a, b| {
        b.level
            .available()
            .cmp(&a.level.available())
            .then(a.warehouse.cmp(&b.warehouse))
    });
    let total: i64 = order.iter().map(|c| c.level.available()).sum();
    if total < quantity {
        return Err(total);
    }
    let mut left = quantity;
    let mut taken = Vec::new();
    for candidate in order {
        if left == 0 {
            break;
        }
        let take = left.min(candidate.level.available());
        taken.push(Allocation {
            warehouse_id: candidate.warehouse,
            quantity: take,
        });
        left -= take;
    }
    Ok(taken)
}

/// Allocates every line, or names every line that cannot be covered. Each variant appears
/// in one line at most (the caller checks), so lines do not compete for the same units.
pub fn allocate_all(
    lines: &[Line],
    stock: &HashMap<VariantId, Vec<Candidate>>,
) -> Result<Vec<Vec<Allocation>>, Vec<Shortage>> {
    let mut allocations = Vec::with_capacity(lines.len());
    let mut shortages = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let candidates = stock.get(&line.variant).map_or(&[][..], Vec::as_slice);
        match allocate(line.quantity, candidates) {
            Ok(taken) => allocations.push(taken),
            Err(available) => shortages.push(Shortage {
                line: index,
                variant: line.variant,
                requested: line.quantity,
                available,
            }),
        }
    }
    if shortages.is_empty() {
        Ok(allocations)
    } else {
        Err(shortages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(warehouse: WarehouseId, on_hand: i64, reserved: i64) -> Candidate {
        Candidate {
            warehouse,
            level: Level { on_hand, reserved },
        }
    }

    fn ids(n: usize) -> Vec<WarehouseId> {
        let mut ids: Vec<WarehouseId> = (0..n).map(|_| WarehouseId::new()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn one_warehouse_fills_a_line_it_can_cover_the_fullest_first() {
        let w = ids(3);
        let stock = [
            candidate(w[0], 5, 0),
            candidate(w[1], 20, 8),
            candidate(w[2], 9, 0),
        ];
        // Available: 5, 12, 9. The one with 12 takes all 10.
        assert_eq!(
            allocate(10, &stock),
            Ok(vec![Allocation {
                warehouse_id: w[1],
                quantity: 10
            }])
        );
    }

    #[test]
    fn a_line_no_warehouse_covers_alone_is_split_fullest_first() {
        let w = ids(3);
        let stock = [
            candidate(w[0], 5, 0),
            candidate(w[1], 12, 0),
            candidate(w[2], 9, 0),
        ];
        assert_eq!(
            allocate(20, &stock),
            Ok(vec![
                Allocation {
                    warehouse_id: w[1],
                    quantity: 12
                },
                Allocation {
                    warehouse_id: w[2],
                    quantity: 8
                },
            ])
        );
        // Everything there is, and not one more.
        assert_eq!(allocate(26, &stock).map(|a| a.len()), Ok(3));
        assert_eq!(allocate(27, &stock), Err(26));
    }

    #[test]
    fn ties_go_to_the_older_warehouse_and_empty_ones_are_skipped() {
        let w = ids(3);
        let stock = [
            candidate(w[2], 4, 0),
            candidate(w[0], 3, 3),
            candidate(w[1], 4, 0),
        ];
        assert_eq!(
            allocate(4, &stock),
            Ok(vec![Allocation {
                warehouse_id: w[1],
                quantity: 4
            }])
        );
        assert_eq!(allocate(1, &[candidate(w[0], 2, 2)]), Err(0));
        assert_eq!(allocate(1, &[]), Err(0));
    }

    #[test]
    fn all_or_nothing_names_every_short_line() {
        let w = ids(2);
        let (a, b, c) = (VariantId::new(), VariantId::new(), VariantId::new());
        let stock = HashMap::from([
            (a, vec![candidate(w[0], 10, 0)]),
            (b, vec![candidate(w[0], 1, 0), candidate(w[1], 1, 0)]),
        ]);
        let lines = [
            Line {
                variant: a,
                quantity: 3,
            },
            Line {
                variant: b,
                quantity: 3,
            },
            Line {
                variant: c,
                quantity: 1,
            },
        ];
        assert_eq!(
            allocate_all(&lines, &stock),
            Err(vec![
                Shortage {
                    line: 1,
                    variant: b,
                    requested: 3,
                    available: 2
                },
                Shortage {
                    line: 2,
                    variant: c,
                    requested: 1,
                    available: 0
                },
            ])
        );
        let fits = allocate_all(&lines[..1], &stock).unwrap();
        assert_eq!(
            fits,
            vec![vec![Allocation {
                warehouse_id: w[0],
                quantity: 3
            }]]
        );
    }

    proptest::proptest! {
        /// Whatever the levels, an allocation takes exactly the quantity, never more than a
        /// warehouse has available, each warehouse once; a single warehouse when one can
        /// cover it; and a refusal only when everything together is short.
        #[test]
        fn allocation_never_oversells(
            levels in proptest::collection::vec((0i64..50, 0i64..50), 0..6),
            quantity in 1i64..120,
        ) {
            let w = ids(levels.len());
            let stock: Vec<Candidate> = levels
                .iter()
                .zip(&w)
                .map(|((a, b), id)| candidate(*id, *a.max(b), *a.min(b)))
                .collect();
            let total: i64 = stock.iter().map(|c| c.level.available()).sum();
            match allocate(quantity, &stock) {
                Ok(taken) => {
                    proptest::prop_assert!(total >= quantity);
                    proptest::prop_assert_eq!(taken.iter().map(|a| a.quantity).sum::<i64>(), quantity);
                    for a in &taken {
                        let c = stock.iter().find(|c| c.warehouse == a.warehouse_id).unwrap();
                        proptest::prop_assert!(a.quantity > 0 && a.quantity <= c.level.available());
                        proptest::prop_assert_eq!(taken.iter().filter(|b| b.warehouse_id == a.warehouse_id).count(), 1);
                    }
                    if stock.iter().any(|c| c.level.available() >= quantity) {
                        proptest::prop_assert_eq!(taken.len(), 1);
                    }
                }
                Err(available) => {
                    proptest::prop_assert_eq!(available, total);
                    proptest::prop_assert!(total < quantity);
                }
            }
        }
    }

    #[test]
    fn endings_follow_the_lifecycle() {
        let now = Utc::now();
        let later = now + Duration::minutes(5);
        let earlier = now - Duration::seconds(1);
        assert_eq!(commit(Status::Active, later, now), Ending::Apply);
        assert_eq!(commit(Status::Active, earlier, now), Ending::ExpireInstead);
        assert_eq!(commit(Status::Committed, later, now), Ending::AlreadyDone);
        assert_eq!(
            commit(Status::Released, later, now),
            Ending::Refuse(Status::Released)
        );
        assert_eq!(
            commit(Status::Expired, later, now),
            Ending::Refuse(Status::Expired)
        );
        assert_eq!(release(Status::Active), Ending::Apply);
        assert_eq!(release(Status::Released), Ending::AlreadyDone);
        assert_eq!(release(Status::Expired), Ending::AlreadyDone);
        assert_eq!(
            release(Status::Committed),
            Ending::Refuse(Status::Committed)
        );
        assert_eq!(expire(Status::Active, earlier, now), Ending::Apply);
        assert_eq!(
            expire(Status::Active, later, now),
            Ending::Refuse(Status::Active)
        );
        assert_eq!(expire(Status::Committed, earlier, now), Ending::AlreadyDone);
        assert_eq!(expire(Status::Released, earlier, now), Ending::AlreadyDone);
    }

    #[test]
    fn ttl_quantities_and_references_are_bounded() {
        assert_eq!(ttl(None), Ok(Duration::seconds(DEFAULT_TTL_SECS)));
        assert_eq!(ttl(Some(1)), Ok(Duration::seconds(1)));
        assert_eq!(ttl(Some(MAX_TTL_SECS)), Ok(Duration::seconds(MAX_TTL_SECS)));
        assert!(ttl(Some(0)).is_err());
        assert!(ttl(Some(-5)).is_err());
        assert!(ttl(Some(MAX_TTL_SECS + 1)).is_err());
        assert!(check_quantity(1).is_ok());
        assert!(check_quantity(0).is_err());
        assert!(check_quantity(-1).is_err());
        assert!(check_quantity(MAX_QUANTITY + 1).is_err());
        assert!(check_reference("ord_123").is_ok());
        assert!(check_reference("").is_err());
        assert!(check_reference("has space").is_err());
        assert!(check_reference(&"x".repeat(101)).is_err());
        for status in [
            Status::Active,
            Status::Committed,
            Status::Released,
            Status::Expired,
        ] {
            assert_eq!(Status::parse(status.code()), Some(status));
        }
    }
}
