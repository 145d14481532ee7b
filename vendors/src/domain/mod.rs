//! The vendors service's types and rules, free of HTTP and SQL.

pub mod checklist;
pub mod payout;
pub mod vendor;

/// Commission rules live in the contract crate: checkout quotes commission with the same code.
pub use mercato_vendors_api::commission;

pub use vendor::{Action, Shipping, Vendor, VendorStatus};
