//! HTTP handlers and DTOs of the orders service, and what they share.

pub mod carts;
pub mod checkout;
pub mod coupons;
pub mod orders;
pub mod out;
pub mod refunds;
pub mod review;
pub mod settings;
pub mod webhooks;

pub use crate::usecases::access::{is_order_reader, require_manager};
pub use mercato_kernel::http::body_id;
