//! Search indexing: the catalog keeps the shop's search documents in step with its own rows.
//!
//! The durable consumer [`INDEXER`] takes the catalog's own `product.changed`, published with
//! every change to a product, its variants or its visibility (a vendor's suspension or
//! rename included) and when the stock mirror sees it flip between in stock and sold out.
//! It does not consume `stock.changed` itself: it would race the stock mirror, which
//! consumes the same event, and could read the level from before it. It reads the product
//! as it now stands in the catalog's database — never the event's payload, so an old or
//! reordered event cannot index stale data — and
//! upserts its document, or deletes it when shoppers must not see it (not active, vendor not
//! approved, deleted). It commits the index before it records the event in its inbox, so a
//! crash in between only re-indexes the same product on redelivery.
//!
//! [`reindex_shop`] rebuilds one shop's documents from scratch (`mercato search reindex`, and
//! `POST /api/v1/catalog/search/reindex`) with one atomic `replace_tenant`.

pub mod document;

use crate::repo::{self, bundle};
use async_trait::async_trait;
use mercato_db::{Db, RowLock, TenantTx};
use mercato_events::{Envelope, Handler, HandlerError};
use mercato_search::{ProductDocument, SearchError, SearchIndex};
use mercato_tenant_context::{ProductId, TenantId};
use serde::Deserialize;
use std::sync::Arc;

/// The durable consumer that keeps the search index up to date.
pub const INDEXER: &str = "catalog-search-indexer";
pub const INDEXER_PATTERNS: &[&str] = &["product.changed"];

/// How many products one reindex step loads and hands to the index.
const CHUNK: usize = 500;

/// Why the index could not be brought in step with the catalog.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("reading the catalog: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("writing the search index: {0}")]
    Search(#[from] SearchError),
}

/// The documents of `ids` as they now stand in `tx`: `(visible documents, ids to remove)`.
/// A product that no longer exists, or that shoppers must not see, is to be removed.
pub async fn documents_of(
    tx: &TenantTx,
    ids: &[ProductId],
) -> Result<(Vec<ProductDocument>, Vec<ProductId>), sea_orm::DbErr> {
    let include = bundle::Include {
        media: false,
        stock: true,
    };
    let loaded = bundle::load(tx, ids, include).await?;
    let mut docs = Vec::with_capacity(loaded.products.len());
    for product in &loaded.products {
        if let Some(doc) = document::build(tx.tenant(), &loaded, product) {
            docs.push(doc);
        }
    }
    let removed = ids
        .iter()
        .filter(|id| !docs.iter().any(|d| d.product_id == **id))
        .copied()
        .collect();
    Ok((docs, removed))
}

/// Brings the documents of `ids` in step with `tx` (upserts and deletes; not committed).
pub async fn sync_products(
    tx: &TenantTx,
    index: &dyn SearchIndex,
    ids: &[ProductId],
) -> Result<(), IndexError> {
    for chunk in ids.chunks(CHUNK) {
        let (docs, removed) = documents_of(tx, chunk).await?;
        if !removed.is_empty() {
            index.delete(tx.tenant(), &removed).await?;
        }
        if !docs.is_empty() {
            index.upsert(docs).await?;
        }
    }
    Ok(())
}

/// Replaces every document of `tenant` with what the catalog holds now, in one atomic
/// change, and commits. Returns how many products are searchable.
pub async fn reindex_shop(
    db: &Db,
    index: &dyn SearchIndex,
    tenant: TenantId,
) -> Result<u64, IndexError> {
    let tx = db.tenant_read(tenant).await?;
    let ids = repo::products::ids(&tx, None, RowLock::None).await?;
    let mut docs = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        docs.extend(documents_of(&tx, chunk).await?.0);
    }
    drop(tx);
    let count = docs.len() as u64;
    index.replace_tenant(tenant, docs).await?;
    index.commit().await?;
    Ok(count)
}

/// The part of `product.changed` the indexer reads.
#[derive(Deserialize)]
struct AboutProduct {
    product_id: ProductId,
}

/// The [`INDEXER`] consumer.
pub struct SearchIndexer {
    pub db: Db,
    pub search: Arc<dyn SearchIndex>,
}

#[async_trait]
impl Handler for SearchIndexer {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let about: AboutProduct = event.payload_as()?;
        let tx = self.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, INDEXER, event).await? {
            return Ok(());
        }
        let indexed = async {
            sync_products(&tx, self.search.as_ref(), &[about.product_id]).await?;
            // Durable before the inbox says so: a redelivery after a crash re-indexes.
            self.search.commit().await?;
            Ok::<(), IndexError>(())
        };
        match indexed.await {
            Ok(()) => {}
            Err(IndexError::Db(e)) => return Err(e.into()),
            Err(IndexError::Search(e)) => return Err(HandlerError::Other(e.into())),
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The job that rebuilds one shop's search documents (`POST /api/v1/catalog/search/reindex`).
pub const REINDEX_JOB: &str = "catalog.search_reindex";
/// The job's subject, to find the shop's latest rebuild.
pub const REINDEX_SUBJECT: &str = "search";

/// Queues a rebuild of `tx`'s shop, in `tx`.
pub async fn enqueue_reindex(tx: &TenantTx) -> Result<mercato_jobs::JobId, sea_orm::DbErr> {
    mercato_jobs::enqueue(
        &**tx,
        mercato_jobs::NewJob {
            tenant: tx.tenant(),
            kind: REINDEX_JOB,
            subject: Some(REINDEX_SUBJECT.to_owned()),
            payload: serde_json::json!({}),
            run_at: chrono::Utc::now(),
            max_attempts: 5,
        },
    )
    .await
}

/// Runs the shop rebuilds that merchant staff queue.
pub fn reindex_worker(state: &crate::CatalogState) -> mercato_jobs::Worker {
    mercato_jobs::Worker::new(
        state.db.clone(),
        REINDEX_JOB,
        Arc::new(ReindexJob {
            db: state.db.clone(),
            search: state.search.clone(),
        }),
    )
    .poll_interval(std::time::Duration::from_millis(500))
    .backoff(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    )
    .lease(std::time::Duration::from_secs(600))
}

struct ReindexJob {
    db: Db,
    search: Arc<dyn SearchIndex>,
}

#[async_trait]
impl mercato_jobs::JobHandler for ReindexJob {
    async fn run(&self, job: &mercato_jobs::Job) -> mercato_jobs::JobOutcome {
        match reindex_shop(&self.db, self.search.as_ref(), job.tenant).await {
            Ok(count) => {
                tracing::info!(tenant_id = %job.tenant, documents = count, "search index rebuilt");
                mercato_jobs::JobOutcome::Done
            }
            Err(error) => {
                tracing::warn!(tenant_id = %job.tenant, error = %error, "search index rebuild failed; retrying");
                mercato_jobs::JobOutcome::Retry(error.to_string())
            }
        }
    }
}
