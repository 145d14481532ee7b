//! The inventory service's problem codes are declared once, in its contract crate, where the
//! callers of its API match on them.

pub use mercato_inventory_api::InventoryProblem;
