//! Catalog end to end (being written).
