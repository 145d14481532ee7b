//! What a refund by lines gives back beyond the lines themselves.
//!
//! # Shipping comes back with the last unit
//!
//! A vendor order's shipping (with the tax on it, when it was taxed) is what its total holds
//! beyond its lines' totals: `total − Σ line totals` (rule 6 of `pricing`). A refund by
//! lines gives it back when, **after** the refund, every unit of every line of the vendor
//! order is refunded; a refund of some units gives none of it back. Since the refund must
//! refund at least one unit that was not refunded before, only one refund can be the one
//! that completes a vendor order: the shipping comes back exactly once. It is capped at what
//! the vendor order has left to refund after the lines (an earlier refund by amount may
//! have given part of it back already). Cancelling a paid order refunds what each vendor
//! order has left, shipping included, and is not a refund by lines.
//!
//! Refunds by amount are the caller's own figure and never add shipping.

/// One line of a vendor order, with the units refunded once the refund is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAfter {
    pub total: i64,
    pub quantity: i64,
    /// Refunded units, this refund's included.
    pub refunded_quantity: i64,
}

/// The shipping (and its tax) a refund by lines gives back with a vendor order whose total
/// is `vendor_order_total` and whose lines are `lines` (all of them): everything beyond the
/// lines' totals when every unit is refunded, else 0; never more than
/// `left_after_lines`, never negative.
pub fn shipping_back(vendor_order_total: i64, lines: &[LineAfter], left_after_lines: i64) -> i64 {
    let whole = !lines.is_empty() && lines.iter().all(|l| l.refunded_quantity >= l.quantity);
    if !whole {
        return 0;
    }
    let lines_total = lines
        .iter()
        .fold(0i64, |sum, l| sum.saturating_add(l.total));
    vendor_order_total
        .saturating_sub(lines_total)
        .clamp(0, left_after_lines.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(total: i64, quantity: i64, refunded_quantity: i64) -> LineAfter {
        LineAfter {
            total,
            quantity,
            refunded_quantity,
        }
    }

    #[test]
    fn the_last_unit_brings_the_shipping_back() {
        // Two lines, 30.00 and 20.00, shipping 5.00 (+ 0.95 tax on top): 55.95.
        let all = [line(3000, 3, 3), line(2000, 1, 1)];
        assert_eq!(shipping_back(5595, &all, 5595 - 5000), 595);
    }

    #[test]
    fn a_partial_refund_brings_no_shipping_back() {
        let some = [line(3000, 3, 2), line(2000, 1, 1)];
        assert_eq!(shipping_back(5595, &some, 10_000), 0);
        let none = [line(3000, 3, 0), line(2000, 1, 0)];
        assert_eq!(shipping_back(5595, &none, 10_000), 0);
        assert_eq!(shipping_back(500, &[], 500), 0);
    }

    #[test]
    fn it_never_gives_back_more_than_is_left() {
        let all = [line(3000, 3, 3)];
        // An earlier refund by amount gave back 2.00 of the vendor order.
        assert_eq!(shipping_back(3500, &all, 300), 300);
        assert_eq!(shipping_back(3500, &all, 0), 0);
        assert_eq!(shipping_back(3500, &all, -5), 0);
        // Free shipping: nothing beyond the lines.
        assert_eq!(shipping_back(3000, &all, 1000), 0);
    }
}
