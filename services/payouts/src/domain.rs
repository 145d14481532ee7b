//! The rules of a vendor's balance, without I/O.
//!
//! A paid vendor order adds its `earnings`; refunds take back the vendor's part of them
//! (`mercato_orders_api::money`, the ledger's own rule). That net sits in `pending` until
//! the vendor order is delivered and the shop's hold (`hold_days`) has passed, then in
//! `available`. Payouts come off `available`: while `pending` or `in_transit` they are
//! `in_transit`, once `paid` they are `paid_out`, and a `failed` one gives the money back.
//! A refund after a payout takes `available` below zero; the next payouts recover it first
//! (nothing is paid until `available` is positive again and at least the vendor's minimum).

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use mercato_vendors_api::payout::PayoutSchedule;
use serde::{Deserialize, Serialize};

/// The hold when the shop has not set one.
pub const DEFAULT_HOLD_DAYS: i32 = 7;
/// The longest hold a shop may set.
pub const MAX_HOLD_DAYS: i32 = 365;

/// What the stored rows add up to for one vendor and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sums {
    /// Net earnings past their hold.
    pub matured: i64,
    /// Net earnings not delivered yet or inside their hold.
    pub maturing: i64,
    /// Payouts `pending` or `in_transit`.
    pub in_flight: i64,
    /// Payouts `paid`.
    pub paid: i64,
}

/// A vendor's balance in one currency, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    pub pending: i64,
    /// Negative after a refund of money already paid out (clawback).
    pub available: i64,
    pub in_transit: i64,
    pub paid_out: i64,
}

impl Sums {
    pub fn balance(self) -> Balance {
        Balance {
            pending: self.maturing,
            available: self.matured - self.in_flight - self.paid,
            in_transit: self.in_flight,
            paid_out: self.paid,
        }
    }
}

/// When earnings delivered at `delivered_at` become available.
pub fn available_at(delivered_at: DateTime<Utc>, hold_days: i32) -> DateTime<Utc> {
    delivered_at + TimeDelta::days(i64::from(hold_days.clamp(0, MAX_HOLD_DAYS)))
}

/// What a run pays a vendor with `available` and a `minimum`: all of it, when it is positive
/// and reaches the minimum; nothing otherwise.
pub fn payout_amount(available: i64, minimum: i64) -> Option<i64> {
    (available > 0 && available >= minimum).then_some(available)
}

/// Whether a vendor on `schedule` is due in the scheduled run of `day` (UTC): daily every
/// day, weekly on Mondays, monthly on the 1st; `manual` only in runs merchant staff start.
pub fn is_due(schedule: PayoutSchedule, day: NaiveDate) -> bool {
    match schedule {
        PayoutSchedule::Daily => true,
        PayoutSchedule::Weekly => day.weekday() == Weekday::Mon,
        PayoutSchedule::Monthly => day.day() == 1,
        PayoutSchedule::Manual => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_fall_due_on_their_day() {
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let tuesday = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert!(is_due(PayoutSchedule::Daily, tuesday));
        assert!(is_due(PayoutSchedule::Weekly, monday));
        assert!(!is_due(PayoutSchedule::Weekly, tuesday));
        assert!(is_due(PayoutSchedule::Monthly, first));
        assert!(!is_due(PayoutSchedule::Monthly, monday));
        assert!(!is_due(PayoutSchedule::Manual, first));
    }

    #[test]
    fn payouts_come_off_available_and_failed_ones_do_not_count() {
        let b = Sums {
            matured: 10_000,
            maturing: 2_500,
            in_flight: 3_000,
            paid: 4_000,
        }
        .balance();
        assert_eq!(
            b,
            Balance {
                pending: 2_500,
                available: 3_000,
                in_transit: 3_000,
                paid_out: 4_000
            }
        );
    }

    #[test]
    fn a_refund_after_payout_is_recovered_before_anything_is_paid() {
        // 8,000 earned and paid out, then 1,000 of it clawed back, then 600 more earned.
        let b = Sums {
            matured: 8_000 - 1_000 + 600,
            paid: 8_000,
            ..Sums::default()
        }
        .balance();
        assert_eq!(b.available, -400);
        assert_eq!(payout_amount(b.available, 0), None);
        assert_eq!(payout_amount(1_500, 1_000), Some(1_500));
        assert_eq!(payout_amount(999, 1_000), None);
    }

    #[test]
    fn the_hold_counts_whole_days_from_delivery() {
        let delivered = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(available_at(delivered, 0), delivered);
        assert_eq!(
            available_at(delivered, 7).to_rfc3339(),
            "2026-12-08T10:00:00+00:00"
        );
        assert_eq!(available_at(delivered, -3), delivered);
    }
}
