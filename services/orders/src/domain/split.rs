//! Splitting an amount over parts in proportion to their weights, to the minor unit.
//!
//! Used wherever one amount must be spread over lines and the pieces must add up to it
//! exactly: an order-wide coupon over the eligible lines, a refund over the lines it covers.
//!
//! # Rules
//!
//! 1. Each part first gets the floor of its exact share `amount × wᵢ / W` (`W` = Σ weights).
//! 2. The minor units left over (fewer than the number of parts) go one each to the parts with
//!    the largest remainders of that division (the **largest remainder method**); equal
//!    remainders go to the lower index first, so the result is deterministic.
//! 3. The parts then sum to `amount` exactly, no part is more than the ceiling of its exact
//!    share, and a part of weight 0 gets nothing.
//!
//! Inputs outside the intended domain are handled, not refused:
//!
//! - A negative weight counts as 0.
//! - When every weight is 0 (or there are no weights) there is nothing to split by, and the
//!   result is **all zeros** — even when `amount` is not 0. The amount is then *not*
//!   allocated; the caller must handle that case (typically it cannot arise: the amount to
//!   split is derived from the weights, as a discount from the eligible subtotal is).
//! - A negative amount is split as its absolute value and every part negated, so the parts
//!   still sum to it exactly.
//!
//! Arithmetic is in `i128`, so no product of an `i64` amount and an `i64` weight overflows.

/// Splits `amount` over `weights` by largest remainder (see the module documentation).
/// The result has one part per weight, in the same order.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let weights: Vec<i128> = weights.iter().map(|w| i128::from((*w).max(0))).collect();
    let total_weight: i128 = weights.iter().sum();
    if total_weight == 0 {
        return vec![0; weights.len()];
    }
    let negative = amount < 0;
    let amount = i128::from(amount).abs();

    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        // amount ≤ 2⁶³ and weight < 2⁶³: the product fits in i128.
        let exact = amount * weight;
        parts.push(exact / total_weight);
        remainders.push((exact % total_weight, index));
    }
    let mut left = amount - parts.iter().sum::<i128>();
    // Largest remainder first; ties to the lower index.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (remainder, index) in remainders {
        if left == 0 || remainder == 0 {
            break;
        }
        parts[index] += 1;
        left -= 1;
    }

    parts
        .into_iter()
        .map(|part| {
            // Every part is at most |amount|, which came from an i64 (|i64::MIN| = 2⁶³ only
            // when the single positive weight takes it all; negated it fits again).
            let part = if negative { -part } else { part };
            i64::try_from(part).unwrap_or(if negative { i64::MIN } else { i64::MAX })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_in_proportion_with_the_remainder_to_the_largest_fraction() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(100, &[1, 2, 1]), vec![25, 50, 25]);
        // 10 over 3000/2000/1000: 5, 3.33, 1.67 → 5, 3, 2.
        assert_eq!(allocate(10, &[3000, 2000, 1000]), vec![5, 3, 2]);
        // Equal remainders go to the lower index.
        assert_eq!(allocate(1, &[5, 5]), vec![1, 0]);
        assert_eq!(allocate(3, &[1, 1, 1, 1]), vec![1, 1, 1, 0]);
        assert_eq!(allocate(0, &[1, 2]), vec![0, 0]);
        assert_eq!(allocate(7, &[0, 3, 0]), vec![0, 7, 0]);
    }

    #[test]
    fn nothing_to_weight_by_gives_zeros() {
        assert_eq!(allocate(0, &[0, 0]), vec![0, 0]);
        assert_eq!(allocate(50, &[0, 0]), vec![0, 0]);
        assert_eq!(allocate(50, &[]), Vec::<i64>::new());
        assert_eq!(allocate(50, &[-3, 0]), vec![0, 0]);
    }

    #[test]
    fn negative_amounts_mirror_and_extremes_fit() {
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(allocate(i64::MAX, &[i64::MAX]), vec![i64::MAX]);
        assert_eq!(allocate(i64::MIN, &[1]), vec![i64::MIN]);
        let parts = allocate(i64::MAX, &[i64::MAX, i64::MAX, 1]);
        assert_eq!(
            parts.iter().map(|p| i128::from(*p)).sum::<i128>(),
            i128::from(i64::MAX)
        );
    }

    proptest! {
        #[test]
        fn parts_sum_exactly_and_stay_within_their_share(
            amount in 0i64..=i64::MAX,
            weights in proptest::collection::vec(0i64..=i64::MAX, 1..12),
        ) {
            let parts = allocate(amount, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            if total == 0 {
                prop_assert!(parts.iter().all(|p| *p == 0));
            } else {
                prop_assert_eq!(parts.iter().map(|p| i128::from(*p)).sum::<i128>(), i128::from(amount));
                for (part, weight) in parts.iter().zip(&weights) {
                    let exact = i128::from(amount) * i128::from(*weight);
                    let floor = exact / total;
                    let ceil = (exact + total - 1) / total;
                    prop_assert!(*part >= 0 && *part <= amount);
                    prop_assert!(i128::from(*part) >= floor);
                    prop_assert!(i128::from(*part) <= ceil);
                    if *weight == 0 {
                        prop_assert_eq!(*part, 0);
                    }
                }
            }
        }

        /// Small realistic carts: a heavier line never gets less than a lighter one.
        #[test]
        fn heavier_weights_get_no_less(
            amount in 0i64..=1_000_000,
            weights in proptest::collection::vec(0i64..=100_000, 1..8),
        ) {
            let parts = allocate(amount, &weights);
            for i in 0..weights.len() {
                for j in 0..weights.len() {
                    if weights[i] > weights[j] {
                        prop_assert!(parts[i] >= parts[j]);
                    }
                }
            }
        }

        #[test]
        fn a_negative_amount_is_the_mirror_image(
            amount in 0i64..=i64::MAX,
            weights in proptest::collection::vec(0i64..=1_000_000, 1..8),
        ) {
            let positive = allocate(amount, &weights);
            let negative = allocate(-amount, &weights);
            prop_assert_eq!(negative, positive.iter().map(|p| -p).collect::<Vec<_>>());
        }
    }
}
