//! Who may see and change what: merchant staff by permission, a customer their own carts
//! and orders, a guest the cart whose id and the order whose token they hold. Strangers get
//! 404 (the thing does not exist for them), signed-in staff without the right 403.

use crate::OrdersState;
use crate::domain::cart::Cart;
use crate::domain::order::FullOrder;
use crate::domain::{CartId, OrderId};
use crate::repo::{carts, orders};
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use mercato_tenant_context::{Actor, Permission, TenantContext};

/// Merchant staff who may see every order.
pub fn is_order_reader(ctx: &TenantContext) -> bool {
    ctx.can(Permission::OrdersRead) || ctx.can(Permission::OrdersManage)
}

/// Merchant staff who manage orders, coupons, taxes and buying settings; strangers get 404
/// on things they cannot see, signed-in staff without the right 403.
pub fn require_manager(ctx: &TenantContext) -> Result<(), Problem> {
    ctx.require(Permission::OrdersManage)
}

/// Who is asking about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Merchant staff: everything, commissions included.
    Merchant,
    /// The customer who placed it, or a guest with its token.
    Buyer,
}

/// The order when the caller may see it as merchant or buyer (`token`: the guest's order
/// token, `X-Order-Token`); 404 otherwise.
pub async fn visible_order(
    state: &OrdersState,
    tx: &TenantTx,
    ctx: &TenantContext,
    token: Option<&str>,
    id: OrderId,
) -> Result<(FullOrder, Viewer), Problem> {
    let full = orders::find(tx, id, false)
        .await?
        .ok_or_else(Problem::not_found)?;
    if is_order_reader(ctx) {
        return Ok((full, Viewer::Merchant));
    }
    let own = matches!((ctx.actor, full.order.customer), (Actor::User(u), Some(c)) if u == c);
    let token =
        token.is_some_and(|t| crate::usecases::checkout::token_matches(&state.token_key, id, t));
    if own || token {
        Ok((full, Viewer::Buyer))
    } else {
        Err(Problem::not_found())
    }
}

/// The cart when the caller may see it (`write`: change it or check it out); others' carts
/// do not exist for them. Merchant staff may look at a customer's cart, never change it.
pub async fn visible_cart(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: CartId,
    lock: bool,
    write: bool,
) -> Result<Cart, Problem> {
    let cart = carts::find(tx, id, lock)
        .await?
        .ok_or_else(Problem::not_found)?;
    match cart.customer {
        Some(owner) if ctx.actor != Actor::User(owner) && (write || !is_order_reader(ctx)) => {
            Err(Problem::not_found())
        }
        _ => Ok(cart),
    }
}
