//! HTTP handlers and DTOs of the catalog service.

use crate::CatalogState;
use axum::Router;

pub fn router() -> Router<CatalogState> {
    Router::new()
}
