//! The test provider's cards: Stripe's test numbers (and their `pm_card_…` tokens) with the
//! outcomes Stripe gives them, and any other valid number succeeding.
//!
//! | Number | Outcome at confirm | Later |
//! |---|---|---|
//! | [`SUCCEEDS`] `4242 4242 4242 4242` | `succeeded` | — |
//! | [`DECLINED`] `4000 0000 0000 0002` | failed, `card_declined` | — |
//! | [`INSUFFICIENT_FUNDS`] `4000 0000 0000 9995` | failed, `insufficient_funds` | — |
//! | [`REQUIRES_ACTION`] `4000 0000 0000 3220` | `requires_action` (cancelable) | `succeeded` after the delay |
//! | [`PROCESSING`] `4000 0000 0000 5555` | `processing` (not cancelable) | `succeeded` after the delay |
//!
//! [`PROCESSING`] is this provider's own: Stripe has no card that stays `processing`; it
//! behaves like a bank debit still being processed.

use crate::event::{PaymentError, failure_code};
use crate::provider::{PaymentMethod, ProviderError};

/// Succeeds at once.
pub const SUCCEEDS: &str = "4242424242424242";
/// Declined: `card_declined`.
pub const DECLINED: &str = "4000000000000002";
/// Needs 3-D Secure: `requires_action` at confirm, succeeded by webhook after the delay.
pub const REQUIRES_ACTION: &str = "4000000000003220";
/// Declined: `insufficient_funds`.
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
/// Like a bank debit still being processed: `processing` at confirm (and not cancelable
/// then, as on Stripe), succeeded by webhook after the delay. Not a Stripe test number.
pub const PROCESSING: &str = "4000000000005555";

/// What confirming with a payment method does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Succeed,
    RequireAction,
    /// Processing now, succeeded after the delay.
    Process,
    /// Declined with this error (as Stripe's `last_payment_error` puts it).
    Decline(PaymentError),
}

/// A usable payment method: its outcome and how it is shown (never the whole number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Charge {
    pub outcome: Outcome,
    pub summary: String,
}

fn decline(decline_code: &str, message: &str) -> Outcome {
    Outcome::Decline(PaymentError {
        code: "card_declined".to_owned(),
        decline_code: Some(decline_code.to_owned()),
        message: message.to_owned(),
    })
}

/// The `last_payment_error` behind a stored failure code (see [`failure_code`], which
/// turns it back into the same code).
pub(crate) fn payment_error(code: &str, message: &str) -> PaymentError {
    let decline_code = if code == "card_declined" {
        "generic_decline"
    } else {
        code
    };
    PaymentError {
        code: "card_declined".to_owned(),
        decline_code: Some(decline_code.to_owned()),
        message: message.to_owned(),
    }
}

/// The code and message an intent fails with for `error`.
pub(crate) fn failure_of(error: &PaymentError) -> (String, String) {
    (
        failure_code(Some(&error.code), error.decline_code.as_deref()),
        error.message.clone(),
    )
}

/// The Luhn checksum over a string of ASCII digits.
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn card(number: &str) -> Result<Charge, ProviderError> {
    // Shoppers type spaces between the groups; nothing else is tolerated.
    let digits: String = number.chars().filter(|c| *c != ' ').collect();
    if !(12..=19).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !luhn_valid(digits.as_bytes())
    {
        return Err(ProviderError::refused(
            "invalid_card_number",
            "Your card number is invalid.",
            Some("payment.card"),
        ));
    }
    let outcome = match digits.as_str() {
        DECLINED => decline("generic_decline", "Your card was declined."),
        INSUFFICIENT_FUNDS => decline("insufficient_funds", "Your card has insufficient funds."),
        REQUIRES_ACTION => Outcome::RequireAction,
        PROCESSING => Outcome::Process,
        _ => Outcome::Succeed,
    };
    Ok(Charge {
        outcome,
        summary: format!("card_…{}", &digits[digits.len() - 4..]),
    })
}

fn token(id: &str) -> Result<Charge, ProviderError> {
    let number = match id {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" => SUCCEEDS,
        "pm_card_chargeDeclined" => DECLINED,
        "pm_card_chargeDeclinedInsufficientFunds" => INSUFFICIENT_FUNDS,
        "pm_card_threeDSecure2Required" | "pm_card_authenticationRequired" => REQUIRES_ACTION,
        _ => {
            return Err(ProviderError::refused(
                "resource_missing",
                format!("No such PaymentMethod: '{id}'"),
                Some("payment_method"),
            ));
        }
    };
    Ok(Charge {
        summary: id.to_owned(),
        ..card(number)?
    })
}

/// What paying with `method` does, or why it cannot be used.
pub(crate) fn resolve(method: &PaymentMethod) -> Result<Charge, ProviderError> {
    match method {
        PaymentMethod::Card { number } => card(number),
        PaymentMethod::Token(id) => token(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn outcome(number: &str) -> Result<Outcome, ProviderError> {
        resolve(&PaymentMethod::Card {
            number: number.into(),
        })
        .map(|c| c.outcome)
    }

    #[test]
    fn stripe_test_cards_behave_as_on_stripe() {
        assert_eq!(outcome(SUCCEEDS), Ok(Outcome::Succeed));
        assert_eq!(outcome(REQUIRES_ACTION), Ok(Outcome::RequireAction));
        assert_eq!(outcome(PROCESSING), Ok(Outcome::Process));
        assert_eq!(outcome("4000 0000 0000 5555"), Ok(Outcome::Process));
        let Ok(Outcome::Decline(declined)) = outcome(DECLINED) else {
            panic!("0002 declines")
        };
        assert_eq!(
            failure_of(&declined),
            ("card_declined".into(), "Your card was declined.".into())
        );
        let Ok(Outcome::Decline(poor)) = outcome(INSUFFICIENT_FUNDS) else {
            panic!("9995 declines")
        };
        assert_eq!(
            failure_of(&poor),
            (
                "insufficient_funds".into(),
                "Your card has insufficient funds.".into()
            )
        );
    }

    #[test]
    fn the_test_numbers_are_distinct_valid_cards() {
        let numbers = [
            SUCCEEDS,
            DECLINED,
            REQUIRES_ACTION,
            INSUFFICIENT_FUNDS,
            PROCESSING,
        ];
        for (i, number) in numbers.iter().enumerate() {
            assert_eq!(number.len(), 16, "{number}");
            assert!(luhn_valid(number.as_bytes()), "{number}");
            assert!(!numbers[..i].contains(number), "{number} twice");
        }
        assert!(PROCESSING.starts_with("400000000000"));
    }

    #[test]
    fn stored_failures_rebuild_the_same_error() {
        for error in [
            payment_error("card_declined", "Your card was declined."),
            payment_error("insufficient_funds", "Your card has insufficient funds."),
        ] {
            let (code, message) = failure_of(&error);
            assert_eq!(payment_error(&code, &message), error);
        }
    }

    #[test]
    fn other_valid_numbers_succeed_and_show_only_the_last_four() {
        for number in [
            "5555555555554444",
            "378282246310005",
            "4242 4242 4242 4242",
            "000000000000",
        ] {
            assert_eq!(outcome(number), Ok(Outcome::Succeed), "{number}");
        }
        let charge = resolve(&PaymentMethod::Card {
            number: "5555 5555 5555 4444".into(),
        })
        .unwrap();
        assert_eq!(charge.summary, "card_…4444");
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for number in [
            "",
            "4242424242424241",
            "42424242424",
            "42424242424242424242",
            "4242-4242-4242-4242",
            "424242424242424x",
        ] {
            let error = outcome(number).unwrap_err();
            assert_eq!(
                error,
                ProviderError::refused(
                    "invalid_card_number",
                    "Your card number is invalid.",
                    Some("payment.card")
                ),
                "{number:?}"
            );
        }
    }

    #[test]
    fn tokens_map_to_the_test_cards() {
        let token = |id: &str| resolve(&PaymentMethod::Token(id.into()));
        assert_eq!(token("pm_card_visa").unwrap().outcome, Outcome::Succeed);
        assert_eq!(token("pm_card_visa").unwrap().summary, "pm_card_visa");
        assert!(matches!(
            token("pm_card_chargeDeclined").unwrap().outcome,
            Outcome::Decline(_)
        ));
        assert_eq!(
            token("pm_card_threeDSecure2Required").unwrap().outcome,
            Outcome::RequireAction
        );
        assert_eq!(
            token("pm_nope").unwrap_err().code(),
            Some("resource_missing")
        );
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_makes_a_number_valid(body in "[0-9]{11,18}") {
            let valid: Vec<u8> = (b'0'..=b'9')
                .filter(|d| {
                    let mut n = body.clone().into_bytes();
                    n.push(*d);
                    luhn_valid(&n)
                })
                .collect();
            prop_assert_eq!(valid.len(), 1);
            let number = format!("{body}{}", valid[0] as char);
            prop_assert!(outcome(&number).is_ok());
        }
    }
}
