//! Why a search operation failed, and what a request that failed on search answers.

use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::ProductId;
use std::path::PathBuf;

/// Why a search operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The query asks for something this crate refuses (a limit too large, an inverted price
    /// range, …); `field` is its path in [`crate::SearchQuery`] (`filters.price.min`).
    #[error("invalid search query at `{field}`: {message}")]
    InvalidQuery {
        field: &'static str,
        message: &'static str,
    },
    /// A document handed to `upsert` is not indexable; nothing of that call was written.
    #[error("product {product_id} cannot be indexed: {message}")]
    InvalidDocument {
        product_id: ProductId,
        message: &'static str,
    },
    #[error("invalid search configuration at `{key}`: {message}")]
    InvalidConfig {
        key: &'static str,
        message: &'static str,
    },
    /// The embedded index could not do `action` on `path`.
    #[error("could not {action} at {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The engine (tantivy, or the Meilisearch server) failed to `action`.
    #[error("the search engine failed to {action}")]
    Engine {
        action: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The embedded index's writer stopped (it failed to start, or the process is ending).
    #[error("the search index writer has stopped")]
    WriterStopped,
    #[error("the search worker task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl SearchError {
    pub(crate) fn engine(
        action: &'static str,
    ) -> impl FnOnce(tantivy::TantivyError) -> SearchError {
        move |source| SearchError::Engine {
            action,
            source: Box::new(source),
        }
    }

    /// The response for a request that failed on search: an invalid query is a 422 naming
    /// the field (the caller prefixes it with its own parameter path if it differs);
    /// everything else is internal (logged with its sources, never shown).
    pub fn into_problem(self) -> Problem {
        match self {
            SearchError::InvalidQuery { field, message } => {
                Problem::validation(vec![FieldError::new(field, message)])
            }
            other => Problem::internal(other),
        }
    }
}
