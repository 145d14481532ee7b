//! Product search for every shop of the platform. It owns the search index and publishes
//! [`SearchIndex`], one async trait over two backends: an embedded tantivy index on disk (or
//! in memory for tests), the default, and a Meilisearch server when configured. Catalog
//! consumes it: it builds a [`ProductDocument`] per product (product, variants' price range
//! and stock, vendor name, the category with all its ancestors, attribute values) and
//! [`SearchIndex::upsert`]s it from its own events, [`SearchIndex::delete`]s archived or
//! hidden products, and answers `GET /api/v1/search` with [`SearchIndex::search`] and
//! autocomplete with [`SearchIndex::suggest`]. This crate consumes only its configuration
//! ([`SearchConfig`], opened with [`open`]); it publishes no events. It logs only the
//! failures of its own background writer; every other error is returned with its sources
//! for the caller to log once.
//!
//! **Tenancy.** Every read takes the shop first and every document carries it: the embedded
//! engine adds a required term on the indexed `tenant` field to every query, Meilisearch
//! gets a `tenant_id = "<shop>"` filter AND-ed with the user's filters. One shop never sees,
//! counts, facets or is suggested another's products, and [`SearchIndex::delete_tenant`]
//! removes one shop's documents only.
//!
//! **Consistency.** Writes are eventually consistent. `upsert`, `delete` and `delete_tenant`
//! return once the backend has accepted the change; searches see it after the next commit:
//! embedded, at most [`EmbeddedOptions::commit_interval`] (250 ms by default) plus the commit
//! itself (tens of ms) later, or sooner when many changes are pending; Meilisearch, when its
//! task has been processed (usually well under a second). [`SearchIndex::commit`] waits until
//! every change accepted before it is durable and visible: call it after a batch of changes
//! before acknowledging the events they came from, and before shutting down. A change that
//! was accepted but not committed when the process died is lost, so the index is rebuilt
//! from catalog (a full reindex) whenever [`SearchIndex::count`] disagrees with catalog.
//!
//! **Matching** (embedded). Text is split into words, lower-cased and accent-folded; English
//! stop words are ignored and words are stemmed for exact matches. A product matches when
//! each word matches in its title, tags, vendor name, attribute values or description,
//! exactly or within one typo (words of 4+ characters; two typos from 8) — or, for the last
//! word while it is being typed, as a prefix. When no product has every word, the search
//! falls back to products with all but one. Title matches weigh most, then tags, vendor name
//! and attributes, then description; exact matches outrank typo matches. Meilisearch applies
//! its own ranking rules, with the searchable attributes in the same order of weight and the
//! same typo budgets. Facets count every matching product (not just the page), with the
//! query's own filters applied.
//!
//! **Reindexing.** [`SearchIndex::replace_tenant`] swaps one shop's documents for a new set
//! without an empty moment; [`SearchIndex::count`] tells whether a shop's index agrees with
//! catalog (after a restart, or a schema version change, which starts an empty index).
//!
//! ```no_run
//! # async fn demo(doc: mercato_search::ProductDocument) -> Result<(), mercato_search::SearchError> {
//! use mercato_search::{SearchConfig, SearchQuery, open};
//! let index = open(&SearchConfig::default(), std::path::Path::new("./data"))?;
//! let shop = doc.tenant;
//! index.upsert(vec![doc]).await?;
//! index.commit().await?;
//! let results = index.search(shop, &SearchQuery::text("chamomile tea")).await?;
//! let titles = index.suggest(shop, "cham", 5).await?;
//! # let _ = (results, titles);
//! # Ok(()) }
//! ```

mod config;
mod document;
mod embedded;
mod error;
mod meilisearch;
mod query;

pub use config::{MeilisearchConfig, SearchConfig, SearchKind};
pub use document::{
    Attribute, MAX_ATTRIBUTE_LEN, MAX_DESCRIPTION, MAX_LIST, MAX_SHORT_TEXT, ProductDocument,
};
pub use embedded::{EmbeddedIndex, EmbeddedOptions};
pub use error::SearchError;
pub use meilisearch::MeilisearchIndex;
pub use query::{
    DEFAULT_PRICE_EDGES, FacetCount, FacetSpec, Facets, Filters, Hit, MAX_ATTRIBUTE_FILTERS,
    MAX_FACET_VALUES, MAX_FILTER_VALUES, MAX_LIMIT, MAX_PREFIX_CHARS, MAX_PRICE_EDGES,
    MAX_SUGGESTIONS, MAX_TERMS, MAX_TEXT_CHARS, MAX_WINDOW, PriceBucket, PriceRange, SearchQuery,
    SearchResults, Sort, StockCounts,
};

use async_trait::async_trait;
use mercato_tenant_context::{ProductId, TenantId};
use std::path::Path;
use std::sync::Arc;

/// The product search index shared by all shops. Cheap to share as `Arc<dyn SearchIndex>`.
#[async_trait]
pub trait SearchIndex: Send + Sync + std::fmt::Debug {
    /// `"embedded"` or `"meilisearch"`, for logs and `/readyz`.
    fn backend_name(&self) -> &'static str;

    /// Adds the documents, replacing any with the same `(tenant, product_id)`. Documents of
    /// several shops may be mixed. Every document is checked first
    /// ([`ProductDocument::validate`]); if one fails, none is written. Visible after the
    /// next commit (see the crate documentation).
    async fn upsert(&self, docs: Vec<ProductDocument>) -> Result<(), SearchError>;

    /// Removes these products of `tenant`; unknown ids are ignored.
    async fn delete(&self, tenant: TenantId, products: &[ProductId]) -> Result<(), SearchError>;

    /// Removes every document of `tenant` (a shop closed).
    async fn delete_tenant(&self, tenant: TenantId) -> Result<(), SearchError>;

    /// Replaces all of `tenant`'s documents with `docs`: a full reindex of one shop. Every
    /// document must belong to `tenant` and pass [`ProductDocument::validate`], or nothing
    /// is written. Embedded: one atomic change, so searches see the old set or the new one,
    /// never a mix or an empty shop. Meilisearch: the documents are added (in tasks of 10,000),
    /// then the shop's documents not re-sent are deleted, so in between searches may also
    /// see products that are about to go.
    async fn replace_tenant(
        &self,
        tenant: TenantId,
        docs: Vec<ProductDocument>,
    ) -> Result<(), SearchError>;

    /// Searches `tenant`'s products. The query is checked first ([`SearchQuery::validate`]).
    async fn search(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<SearchResults, SearchError>;

    /// Up to `limit` (1..=[`MAX_SUGGESTIONS`]) distinct product titles of `tenant` for what a
    /// shopper has typed so far: earlier words match whole (with typos), the last as a
    /// prefix. Titles starting with the prefix come first, then shorter titles.
    async fn suggest(
        &self,
        tenant: TenantId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, SearchError>;

    /// How many documents `tenant` has (as of the last commit).
    async fn count(&self, tenant: TenantId) -> Result<u64, SearchError>;

    /// Waits until every change accepted before this call is durable and searchable.
    async fn commit(&self) -> Result<(), SearchError>;

    /// Makes sure the backend is ready to be written and searched: Meilisearch creates the
    /// index and applies its settings (filterable, sortable and searchable attributes);
    /// embedded has nothing to do. Call it at start-up; it is idempotent.
    async fn prepare(&self) -> Result<(), SearchError>;

    /// Whether the backend answers, for `/readyz`.
    async fn ping(&self) -> Result<(), SearchError>;
}

/// The backend `config` names. The embedded index lives in `config.path`, or in
/// `<data_dir>/search` when that is empty (created if missing); only one process may have
/// it open. Makes no network request (see [`SearchIndex::prepare`]).
pub fn open(config: &SearchConfig, data_dir: &Path) -> Result<Arc<dyn SearchIndex>, SearchError> {
    config.validate()?;
    match config.kind {
        SearchKind::Embedded => Ok(Arc::new(EmbeddedIndex::open_in_dir(
            &config.embedded_path(data_dir),
            EmbeddedOptions::default(),
        )?)),
        SearchKind::Meilisearch => Ok(Arc::new(MeilisearchIndex::new(&config.meilisearch)?)),
    }
}
