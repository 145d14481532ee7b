//! The vendors service's types and rules, free of HTTP and SQL.

pub mod checklist;
pub mod commission;
pub mod payout;
pub mod vendor;

pub use vendor::{Action, Shipping, Vendor, VendorStatus};
