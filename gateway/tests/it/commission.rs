//! Commission rules and payout accounts (being written).
