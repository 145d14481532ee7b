//! Inventory end to end (being written).
