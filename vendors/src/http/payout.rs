//! Payout accounts (being written).

use crate::VendorsState;
use axum::Router;

pub fn router() -> Router<VendorsState> {
    Router::new()
}
