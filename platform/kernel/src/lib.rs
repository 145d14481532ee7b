//! Mercato's kernel: the vocabulary every crate shares and nothing of any one service —
//! typed prefixed ids, `Money`, RFC 9457 problem responses, cursor pagination, layered
//! configuration and telemetry set-up.

pub mod config;
pub mod country;
pub mod http;
pub mod id;
pub mod money;
pub mod page;
pub mod problem;
pub mod telemetry;
pub mod text;

pub use config::Secret;
pub use money::{Currency, Money};
pub use page::{ListQuery, ListResponse};
pub use problem::{Checks, Common, FieldError, Problem, ProblemCode};

#[doc(hidden)]
pub mod __private {
    pub use axum::http::StatusCode;
    pub use serde;
    pub use utoipa;
    pub use uuid;
}
