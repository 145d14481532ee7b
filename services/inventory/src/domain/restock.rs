//! Putting sold units back on the shelf: when an order is cancelled after it was paid, or a
//! refund restocks some of it, the units go back to the warehouses its reservation took them
//! from, in the order the allocation took them (the fullest first). A warehouse never gets
//! back more of a variant than the reservation took from it, counting what earlier restocks
//! of the same reservation already returned, so a redelivered or overlapping refund cannot
//! invent stock.

use super::WarehouseId;
use super::reservation::{Line, Reservation};
use mercato_tenant_context::VariantId;
use std::collections::{BTreeMap, HashMap};

/// Units of one variant going back into one warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub warehouse: WarehouseId,
    pub variant: VariantId,
    pub quantity: i64,
}

/// Where the units go, and what has nowhere to go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In lock order: by variant, then warehouse; one per pair.
    pub placements: Vec<Placement>,
    /// Units the reservation never held, or that were all returned already.
    pub unplaced: Vec<Line>,
}

/// Splits `lines` over the warehouses `reservation` took them from. `returned` is what
/// earlier restocks of this reservation put back, per (warehouse, variant).
pub fn plan(
    reservation: &Reservation,
    returned: &HashMap<(WarehouseId, VariantId), i64>,
    lines: &[Line],
) -> Plan {
    // What each allocation may still take back, in the allocation's order.
    let mut room: Vec<(WarehouseId, VariantId, i64)> = reservation
        .lines
        .iter()
        .flat_map(|line| {
            line.allocations
                .iter()
                .map(move |a| (a.warehouse_id, line.variant, a.quantity))
        })
        .collect();
    let mut already: HashMap<(WarehouseId, VariantId), i64> = returned.clone();
    for (warehouse, variant, quantity) in &mut room {
        if let Some(back) = already.get_mut(&(*warehouse, *variant)) {
            let used = (*back).clamp(0, *quantity);
            *quantity -= used;
            *back -= used;
        }
    }
    let mut placed: BTreeMap<(VariantId, WarehouseId), i64> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for line in lines.iter().filter(|l| l.quantity > 0) {
        let mut left = line.quantity;
        for (warehouse, variant, quantity) in room.iter_mut().filter(|r| r.1 == line.variant) {
            if left == 0 {
                break;
            }
            let take = left.min(*quantity);
            if take > 0 {
                *quantity -= take;
                left -= take;
                *placed.entry((*variant, *warehouse)).or_default() += take;
            }
        }
        if left > 0 {
            unplaced.push(Line {
                variant: line.variant,
                quantity: left,
            });
        }
    }
    Plan {
        placements: placed
            .into_iter()
            .map(|((variant, warehouse), quantity)| Placement {
                warehouse,
                variant,
                quantity,
            })
            .collect(),
        unplaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReservationId;
    use crate::domain::reservation::{Allocation, ReservedLine, Status};
    use chrono::Utc;

    fn reservation(lines: Vec<ReservedLine>) -> Reservation {
        let now = Utc::now();
        Reservation {
            id: ReservationId::new(),
            status: Status::Committed,
            reference: None,
            created_by: "svc_orders".into(),
            lines,
            expires_at: now,
            created_at: now,
            updated_at: now,
            ended_at: Some(now),
            ended_by: Some("svc_orders".into()),
        }
    }

    fn held(variant: VariantId, allocations: &[(WarehouseId, i64)]) -> ReservedLine {
        ReservedLine {
            variant,
            quantity: allocations.iter().map(|(_, q)| q).sum(),
            allocations: allocations
                .iter()
                .map(|(w, q)| Allocation {
                    warehouse_id: *w,
                    quantity: *q,
                })
                .collect(),
        }
    }

    fn line(variant: VariantId, quantity: i64) -> Line {
        Line { variant, quantity }
    }

    #[test]
    fn units_go_back_where_they_came_from_the_first_allocation_first() {
        let (big, small) = (WarehouseId::new(), WarehouseId::new());
        let (tea, cup) = (VariantId::new(), VariantId::new());
        let r = reservation(vec![
            held(tea, &[(big, 8), (small, 2)]),
            held(cup, &[(small, 2)]),
        ]);
        let all = plan(&r, &HashMap::new(), &[line(tea, 10), line(cup, 2)]);
        assert!(all.unplaced.is_empty());
        let mut expected = vec![
            Placement {
                warehouse: big,
                variant: tea,
                quantity: 8,
            },
            Placement {
                warehouse: small,
                variant: tea,
                quantity: 2,
            },
            Placement {
                warehouse: small,
                variant: cup,
                quantity: 2,
            },
        ];
        expected.sort_by_key(|p| (p.variant, p.warehouse));
        assert_eq!(all.placements, expected);

        let some = plan(&r, &HashMap::new(), &[line(tea, 3)]);
        assert_eq!(
            some.placements,
            vec![Placement {
                warehouse: big,
                variant: tea,
                quantity: 3
            }]
        );
    }

    #[test]
    fn what_was_returned_before_is_not_returned_again() {
        let (big, small) = (WarehouseId::new(), WarehouseId::new());
        let tea = VariantId::new();
        let r = reservation(vec![held(tea, &[(big, 8), (small, 2)])]);
        let returned = HashMap::from([((big, tea), 7)]);
        let plan = plan(&r, &returned, &[line(tea, 5)]);
        let mut expected = vec![
            Placement {
                warehouse: big,
                variant: tea,
                quantity: 1,
            },
            Placement {
                warehouse: small,
                variant: tea,
                quantity: 2,
            },
        ];
        expected.sort_by_key(|p| (p.variant, p.warehouse));
        assert_eq!(plan.placements, expected);
        assert_eq!(plan.unplaced, vec![line(tea, 2)]);
    }

    #[test]
    fn units_the_reservation_never_held_have_nowhere_to_go() {
        let w = WarehouseId::new();
        let (tea, other) = (VariantId::new(), VariantId::new());
        let r = reservation(vec![held(tea, &[(w, 2)])]);
        let plan = plan(&r, &HashMap::new(), &[line(other, 1), line(tea, 0)]);
        assert!(plan.placements.is_empty());
        assert_eq!(plan.unplaced, vec![line(other, 1)]);
    }

    proptest::proptest! {
        /// Whatever was asked and returned before, no warehouse gets back more than the
        /// reservation took from it, and every asked-for unit is placed or reported.
        #[test]
        fn restocking_never_returns_more_than_was_taken(
            allocations in proptest::collection::vec(1i64..20, 1..4),
            before in proptest::collection::vec(0i64..20, 4),
            asked in proptest::collection::vec(0i64..40, 1..3),
        ) {
            let tea = VariantId::new();
            let warehouses: Vec<WarehouseId> = allocations.iter().map(|_| WarehouseId::new()).collect();
            let pairs: Vec<(WarehouseId, i64)> = warehouses.iter().copied().zip(allocations.iter().copied()).collect();
            let r = reservation(vec![held(tea, &pairs)]);
            let returned: HashMap<(WarehouseId, VariantId), i64> = warehouses
                .iter()
                .zip(&before)
                .map(|(w, b)| ((*w, tea), *b))
                .collect();
            let lines: Vec<Line> = asked.iter().map(|q| line(tea, *q)).collect();
            let plan = plan(&r, &returned, &lines);
            for (w, taken) in &pairs {
                let back: i64 = plan.placements.iter().filter(|p| p.warehouse == *w).map(|p| p.quantity).sum();
                let earlier = returned.get(&(*w, tea)).copied().unwrap_or(0).min(*taken);
                proptest::prop_assert!(back >= 0 && back + earlier <= *taken);
            }
            let placed: i64 = plan.placements.iter().map(|p| p.quantity).sum();
            let unplaced: i64 = plan.unplaced.iter().map(|l| l.quantity).sum();
            proptest::prop_assert_eq!(placed + unplaced, asked.iter().sum::<i64>());
        }
    }
}
