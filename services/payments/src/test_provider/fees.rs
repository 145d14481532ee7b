//! What the test provider charges for a payment: a percentage of it plus a fixed amount, so
//! fees show in the ledger and the reconciliation as they would with a real provider.

use serde::{Deserialize, Serialize};

/// The test provider's fee: `basis_points` of the amount (150 = 1.5 %), rounded half to even
/// to the minor unit, plus `fixed` minor units. The default is 1.5 % + 25 (cents for EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestFee {
    pub basis_points: u32,
    pub fixed: i64,
}

impl Default for TestFee {
    fn default() -> Self {
        Self {
            basis_points: 150,
            fixed: 25,
        }
    }
}

impl TestFee {
    /// No fee at all.
    pub const NONE: Self = Self {
        basis_points: 0,
        fixed: 0,
    };

    /// The fee on a payment of `amount` minor units (> 0), never more than the amount.
    pub fn of(self, amount: i64) -> i64 {
        let product = i128::from(amount) * i128::from(self.basis_points);
        let (whole, rest) = (product / 10_000, product % 10_000);
        let rounded = match (2 * rest).cmp(&10_000) {
            std::cmp::Ordering::Greater => whole + 1,
            std::cmp::Ordering::Equal => whole + (whole & 1),
            std::cmp::Ordering::Less => whole,
        };
        let fee = rounded.saturating_add(i128::from(self.fixed.max(0)));
        i64::try_from(fee.min(i128::from(amount))).unwrap_or(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_and_a_half_percent_and_25_rounded_half_to_even() {
        let fee = TestFee::default();
        assert_eq!(fee.of(10_000), 175);
        // 1.5 % of 2 500 is 37.5: to the even 38; of 2 700, 40.5: to the even 40.
        assert_eq!(fee.of(2_500), 38 + 25);
        assert_eq!(fee.of(2_700), 40 + 25);
        // 1.5 % of 2 510 is 37.65: up.
        assert_eq!(fee.of(2_510), 38 + 25);
        // Never more than the payment.
        assert_eq!(fee.of(10), 10);
        assert_eq!(TestFee::NONE.of(12_345), 0);
    }

    proptest! {
        #[test]
        fn the_fee_is_within_half_a_unit_of_the_rate(amount in 1i64..10_000_000_000, bp in 0u32..10_000) {
            let fee = TestFee { basis_points: bp, fixed: 0 }.of(amount);
            let exact = amount as f64 * f64::from(bp) / 10_000.0;
            prop_assert!((fee as f64 - exact).abs() <= 0.5 + 1e-6);
            prop_assert!(fee <= amount);
        }
    }
}
