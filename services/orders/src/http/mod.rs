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

use mercato_kernel::Problem;
use mercato_tenant_context::{Permission, TenantContext};

/// Merchant staff who may see every order.
pub fn is_order_reader(ctx: &TenantContext) -> bool {
    ctx.can(Permission::OrdersRead) || ctx.can(Permission::OrdersManage)
}

/// Merchant staff who manage orders, coupons, taxes and buying settings; strangers get 404
/// on things they cannot see, signed-in staff without the right 403.
pub fn require_manager(ctx: &TenantContext) -> Result<(), Problem> {
    ctx.require(Permission::OrdersManage)
}

pub use mercato_kernel::http::body_id;
