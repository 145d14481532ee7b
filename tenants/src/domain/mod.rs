//! The rules of shops: what a valid shop, plan and domain are. No database, no HTTP.

pub mod hostname;
pub mod plan;
pub mod shop;
