//! HTTP handlers and DTOs of the inventory service.

use crate::InventoryState;
use axum::Router;

pub fn router() -> Router<InventoryState> {
    Router::new()
}
