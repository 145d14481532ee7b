//! Stock levels (on hand, reserved, available) and the rules that move them.
//!
//! `available = on_hand - reserved`. On hand never goes below zero, and never below what is
//! reserved: reserved units are promised to a checkout, so an adjustment may not take them
//! away. A reservation may only take what is available.

use super::MAX_ON_HAND;
use serde::{Deserialize, Serialize};

/// One variant's stock in one warehouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
}

/// Why a stock movement cannot happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("on hand would be {on_hand}; it cannot go below zero")]
    BelowZero { on_hand: i64 },
    #[error(
        "on hand would be {on_hand}, but {reserved} unit(s) are reserved; it cannot go below that"
    )]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("on hand would exceed {MAX_ON_HAND}")]
    TooMuch,
    #[error("only {available} unit(s) available")]
    Insufficient { available: i64 },
    #[error("the level holds fewer reserved units than the reservation names")]
    ReservedMismatch,
}

impl Level {
    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    /// On hand changed by `delta` (an adjustment).
    pub fn adjusted(self, delta: i64) -> Result<Level, StockError> {
        let on_hand = self.on_hand.checked_add(delta).ok_or(StockError::TooMuch)?;
        if on_hand < 0 {
            return Err(StockError::BelowZero { on_hand });
        }
        if on_hand < self.reserved {
            return Err(StockError::BelowReserved {
                on_hand,
                reserved: self.reserved,
            });
        }
        if on_hand > MAX_ON_HAND {
            return Err(StockError::TooMuch);
        }
        Ok(Level { on_hand, ..self })
    }

    /// `quantity` more units held for a reservation.
    pub fn reserved(self, quantity: i64) -> Result<Level, StockError> {
        if quantity > self.available() {
            return Err(StockError::Insufficient {
                available: self.available(),
            });
        }
        Ok(Level {
            reserved: self.reserved + quantity,
            ..self
        })
    }

    /// `quantity` reserved units given back (release or expiry).
    pub fn released(self, quantity: i64) -> Result<Level, StockError> {
        if quantity > self.reserved {
            return Err(StockError::ReservedMismatch);
        }
        Ok(Level {
            reserved: self.reserved - quantity,
            ..self
        })
    }

    /// `quantity` reserved units sold: they leave on hand and the reservation together.
    pub fn committed(self, quantity: i64) -> Result<Level, StockError> {
        if quantity > self.reserved {
            return Err(StockError::ReservedMismatch);
        }
        Ok(Level {
            on_hand: self.on_hand - quantity,
            reserved: self.reserved - quantity,
        })
    }
}

/// Why on hand changed. Clients give the first five; `sold` is recorded when a reservation
/// is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Goods arrived (a delivery from a supplier). Adds stock.
    Received,
    /// A customer's return was restocked. Adds stock.
    Returned,
    /// Found broken or unsellable. Removes stock.
    Damaged,
    /// Missing (theft, shrinkage). Removes stock.
    Lost,
    /// A count or a mistake put right. Either way.
    Correction,
    /// Committed by a paid checkout. Removes stock; never given by clients.
    Sold,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Self::Received,
        Self::Returned,
        Self::Damaged,
        Self::Lost,
        Self::Correction,
        Self::Sold,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Returned => "returned",
            Self::Damaged => "damaged",
            Self::Lost => "lost",
            Self::Correction => "correction",
            Self::Sold => "sold",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Whether a client may record an adjustment with this reason.
    pub fn is_manual(self) -> bool {
        self != Self::Sold
    }

    /// Whether `delta` goes the way this reason says stock moves.
    pub fn check_delta(self, delta: i64) -> Result<(), &'static str> {
        match self {
            _ if delta == 0 => Err("an adjustment must change on hand"),
            Self::Received | Self::Returned if delta < 0 => {
                Err("received and returned stock adds units: use a positive delta")
            }
            Self::Damaged | Self::Lost | Self::Sold if delta > 0 => {
                Err("damaged and lost stock removes units: use a negative delta")
            }
            _ => Ok(()),
        }
    }
}

/// What an adjustment asks for: a change, or a counted quantity (a stocktake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Delta(i64),
    /// On hand as counted; the delta is whatever gets there.
    Count(i64),
}

impl Change {
    pub fn delta(self, current: Level) -> i64 {
        match self {
            Self::Delta(delta) => delta,
            Self::Count(on_hand) => on_hand - current.on_hand,
        }
    }
}

/// A variant's stock over all its vendor's warehouses. On hand and reserved count every
/// warehouse; available counts active ones only (an inactive warehouse takes no new
/// reservations, but what it holds is still on hand and may still be committed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

/// Where a variant stands against its low-stock threshold after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowStock {
    /// Below the threshold now.
    pub low: bool,
    /// This change crossed from at-or-above the threshold to below it: say so once.
    pub alert: bool,
}

/// `stock.low` is said once per crossing: when available drops below the threshold while
/// the variant was not already low. Rising back to the threshold or above re-arms it. A
/// threshold set (or lowered) above what is available counts as a crossing too: the vendor
/// learns at once that the variant is low by the new measure.
pub fn low_stock(threshold: Option<i64>, was_low: bool, available: i64) -> LowStock {
    match threshold {
        Some(threshold) if available < threshold => LowStock {
            low: true,
            alert: !was_low,
        },
        _ => LowStock {
            low: false,
            alert: false,
        },
    }
}

/// Highest threshold a vendor may set.
pub const MAX_THRESHOLD: i64 = 1_000_000;

pub fn check_threshold(threshold: i64) -> Result<(), &'static str> {
    if (1..=MAX_THRESHOLD).contains(&threshold) {
        Ok(())
    } else {
        Err("a threshold from 1 to 1000000, or null for none")
    }
}

/// A free-text note on an adjustment: at most 500 characters, no control characters but
/// line breaks. Blank counts as none.
pub fn parse_note(note: Option<&str>) -> Result<Option<String>, &'static str> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    match note {
        Some(n) if n.chars().count() > 500 || n.chars().any(|c| c.is_control() && c != '\n') => {
            Err("at most 500 characters, no control characters")
        }
        other => Ok(other.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(on_hand: i64, reserved: i64) -> Level {
        Level { on_hand, reserved }
    }

    #[test]
    fn adjustments_never_take_on_hand_below_zero_or_reserved() {
        assert_eq!(level(5, 0).adjusted(-5), Ok(level(0, 0)));
        assert_eq!(
            level(5, 0).adjusted(-6),
            Err(StockError::BelowZero { on_hand: -1 })
        );
        assert_eq!(level(5, 3).adjusted(-2), Ok(level(3, 3)));
        assert_eq!(
            level(5, 3).adjusted(-3),
            Err(StockError::BelowReserved {
                on_hand: 2,
                reserved: 3
            })
        );
        assert_eq!(level(5, 3).adjusted(10), Ok(level(15, 3)));
        assert_eq!(
            level(0, 0).adjusted(MAX_ON_HAND + 1),
            Err(StockError::TooMuch)
        );
        assert_eq!(level(1, 0).adjusted(i64::MAX), Err(StockError::TooMuch));
        assert!(matches!(
            level(0, 0).adjusted(i64::MIN),
            Err(StockError::BelowZero { .. })
        ));
    }

    #[test]
    fn reserving_takes_only_what_is_available() {
        assert_eq!(level(10, 4).available(), 6);
        assert_eq!(level(10, 4).reserved(6), Ok(level(10, 10)));
        assert_eq!(
            level(10, 4).reserved(7),
            Err(StockError::Insufficient { available: 6 })
        );
    }

    #[test]
    fn release_and_commit_move_reserved_units() {
        assert_eq!(level(10, 4).released(4), Ok(level(10, 0)));
        assert_eq!(level(10, 4).committed(3), Ok(level(7, 1)));
        assert_eq!(level(10, 4).released(5), Err(StockError::ReservedMismatch));
        assert_eq!(level(10, 4).committed(5), Err(StockError::ReservedMismatch));
    }

    #[test]
    fn reasons_say_which_way_stock_moves() {
        assert!(Reason::Received.check_delta(3).is_ok());
        assert!(Reason::Received.check_delta(-3).is_err());
        assert!(Reason::Returned.check_delta(-1).is_err());
        assert!(Reason::Damaged.check_delta(-2).is_ok());
        assert!(Reason::Damaged.check_delta(2).is_err());
        assert!(Reason::Lost.check_delta(1).is_err());
        assert!(Reason::Correction.check_delta(-2).is_ok());
        assert!(Reason::Correction.check_delta(2).is_ok());
        for reason in Reason::ALL {
            assert!(reason.check_delta(0).is_err(), "{reason:?}");
            assert_eq!(Reason::parse(reason.code()), Some(reason));
        }
        assert!(!Reason::Sold.is_manual());
        assert_eq!(Reason::parse("stolen"), None);
    }

    #[test]
    fn a_count_becomes_the_delta_to_it() {
        assert_eq!(Change::Count(7).delta(level(10, 2)), -3);
        assert_eq!(Change::Count(12).delta(level(10, 2)), 2);
        assert_eq!(Change::Delta(-4).delta(level(10, 2)), -4);
    }

    #[test]
    fn low_stock_alerts_once_per_crossing() {
        let t = Some(5);
        // Dropping below: alert once.
        let first = low_stock(t, false, 4);
        assert_eq!(
            first,
            LowStock {
                low: true,
                alert: true
            }
        );
        // Still below, lower still: no second alert.
        assert_eq!(
            low_stock(t, first.low, 2),
            LowStock {
                low: true,
                alert: false
            }
        );
        // Back to the threshold: re-armed, no alert.
        let rearmed = low_stock(t, true, 5);
        assert_eq!(
            rearmed,
            LowStock {
                low: false,
                alert: false
            }
        );
        // Dropping again: a new crossing.
        assert_eq!(
            low_stock(t, rearmed.low, 0),
            LowStock {
                low: true,
                alert: true
            }
        );
        // At or above the threshold never alerts.
        assert!(!low_stock(t, false, 5).alert);
        assert!(!low_stock(t, false, 50).low);
    }

    #[test]
    fn without_a_threshold_nothing_is_low() {
        assert_eq!(
            low_stock(None, true, 0),
            LowStock {
                low: false,
                alert: false
            }
        );
        assert_eq!(
            low_stock(None, false, 0),
            LowStock {
                low: false,
                alert: false
            }
        );
    }

    #[test]
    fn thresholds_and_notes_are_bounded() {
        assert!(check_threshold(1).is_ok());
        assert!(check_threshold(MAX_THRESHOLD).is_ok());
        assert!(check_threshold(0).is_err());
        assert!(check_threshold(-1).is_err());
        assert!(check_threshold(MAX_THRESHOLD + 1).is_err());
        assert_eq!(parse_note(Some("  ")), Ok(None));
        assert_eq!(parse_note(Some(" pallet 4 ")), Ok(Some("pallet 4".into())));
        assert!(parse_note(Some(&"x".repeat(501))).is_err());
        assert!(parse_note(Some("a\u{7}b")).is_err());
    }
}
