//! The embedded backend: a tantivy index in a directory of this process, or in memory.

mod facets;
mod matching;
mod schema;
mod writer;

use crate::document::document_key;
use crate::query::{Hit, SearchQuery, SearchResults, Sort, rank_suggestions, validate_suggest};
use crate::{ProductDocument, SearchError, SearchIndex};
use async_trait::async_trait;
use facets::FacetCollector;
use matching::Strictness;
use mercato_tenant_context::{ProductId, TenantId};
use schema::{Analyzers, CREATED_AT, Fields, PRICE_MIN, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, Query};
use tantivy::schema::Value;
use tantivy::{
    DocAddress, Index, IndexReader, Order, ReloadPolicy, Searcher, TantivyDocument, Term,
};
use writer::WriterHandle;

/// How the embedded index writes.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// The longest a change waits for its commit (and so to become searchable).
    pub commit_interval: Duration,
    /// Commit early once this many operations (a document's delete and add count two) wait.
    pub max_pending: usize,
    /// Indexing threads; each gets `writer_memory_bytes / writer_threads` (at least 15 MB).
    pub writer_threads: usize,
    pub writer_memory_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        Self {
            commit_interval: Duration::from_millis(250),
            max_pending: 20_000,
            writer_threads: threads,
            writer_memory_bytes: threads * 32_000_000,
        }
    }
}

impl EmbeddedOptions {
    /// A small writer for tests: one thread, the minimum memory, quick commits.
    pub fn for_tests() -> Self {
        Self {
            commit_interval: Duration::from_millis(50),
            max_pending: 20_000,
            writer_threads: 1,
            writer_memory_bytes: 15_000_000,
        }
    }
}

/// The embedded search index. Cloning shares it. Dropping the last clone commits what is
/// pending and waits for the writer thread (and its segment merges) to finish, which
/// releases the directory for the next process; call [`SearchIndex::commit`] before that
/// at shutdown to see its result.
#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

struct Inner {
    reader: IndexReader,
    fields: Fields,
    analyzers: Analyzers,
    writer: WriterHandle,
    /// Where the index lives, for `Debug`: a directory, or `memory`.
    location: PathBuf,
}

impl std::fmt::Debug for EmbeddedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedIndex")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl EmbeddedIndex {
    /// Opens the index under `path` (in a `products-v<N>` directory for this schema version),
    /// creating it if missing. Fails if another writer holds it.
    pub fn open_in_dir(path: &Path, options: EmbeddedOptions) -> Result<Self, SearchError> {
        let dir = path.join(SCHEMA_VERSION);
        std::fs::create_dir_all(&dir).map_err(|source| SearchError::Io {
            action: "create the search index directory",
            path: dir.clone(),
            source,
        })?;
        let directory = MmapDirectory::open(&dir).map_err(|source| SearchError::Engine {
            action: "open the search index directory",
            source: Box::new(source),
        })?;
        let (schema, _) = Fields::schema();
        let index = Index::open_or_create(directory, schema)
            .map_err(SearchError::engine("open the search index"))?;
        Self::start(index, options, dir)
    }

    /// A new, empty index in memory (tests, benchmarks).
    pub fn in_memory(options: EmbeddedOptions) -> Result<Self, SearchError> {
        let (schema, _) = Fields::schema();
        Self::start(
            Index::create_in_ram(schema),
            options,
            PathBuf::from("memory"),
        )
    }

    fn start(
        index: Index,
        options: EmbeddedOptions,
        location: PathBuf,
    ) -> Result<Self, SearchError> {
        let (_, fields) = Fields::schema();
        let analyzers = Analyzers::new();
        analyzers.register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(SearchError::engine("open the index reader"))?;
        let writer = index
            .writer_with_num_threads(
                options.writer_threads.max(1),
                options
                    .writer_memory_bytes
                    .max(options.writer_threads.max(1) * 15_000_000),
            )
            .map_err(SearchError::engine("open the index writer"))?;
        let name = if location == Path::new("memory") {
            "memory"
        } else {
            "disk"
        };
        let writer = WriterHandle::start(writer, reader.clone(), options, name)?;
        Ok(Self {
            inner: Arc::new(Inner {
                reader,
                fields,
                analyzers,
                writer,
                location,
            }),
        })
    }

    /// Runs `work` on the blocking pool with the inner index.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(SearchError::Task)?
    }
}

impl Inner {
    /// Appends, per document, the delete of its key and its add: an upsert.
    fn replacing(
        &self,
        docs: &[ProductDocument],
        mut operations: Vec<UserOperation>,
    ) -> Vec<UserOperation> {
        for doc in docs {
            operations.push(UserOperation::Delete(Term::from_field_text(
                self.fields.key,
                &doc.key(),
            )));
            operations.push(UserOperation::Add(self.fields.document(doc)));
        }
        operations
    }

    fn search(&self, tenant: TenantId, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let words = matching::words(&self.analyzers, query.text_str());
        let strict = matching::search_query(
            &self.fields,
            tenant,
            &query.filters,
            &words,
            Strictness::AllWords,
        );
        let results = self.collect(&searcher, strict.as_ref(), query)?;
        if results.total > 0 || words.len() < 2 {
            return Ok(results);
        }
        let relaxed = matching::search_query(
            &self.fields,
            tenant,
            &query.filters,
            &words,
            Strictness::AllButOne,
        );
        self.collect(&searcher, relaxed.as_ref(), query)
    }

    fn collect(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        request: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        let top = TopDocs::with_limit(request.limit).and_offset(request.offset);
        let facets = FacetCollector::new(request.facets.clone());
        let (hits, total, tally) = match request.effective_sort() {
            Sort::Relevance => {
                let (hits, total, tally) =
                    run(searcher, query, (top.order_by_score(), Count, facets))?;
                let hits = hits
                    .into_iter()
                    .map(|(score, address)| (Some(score), address));
                (hits.collect::<Vec<_>>(), total, tally)
            }
            Sort::PriceAsc | Sort::PriceDesc | Sort::Newest => {
                let (field, order) = match request.effective_sort() {
                    Sort::PriceAsc => (PRICE_MIN, Order::Asc),
                    Sort::PriceDesc => (PRICE_MIN, Order::Desc),
                    _ => (CREATED_AT, Order::Desc),
                };
                let (hits, total, tally) = run(
                    searcher,
                    query,
                    (top.order_by_fast_field::<i64>(field, order), Count, facets),
                )?;
                let hits = hits.into_iter().map(|(_, address)| (None, address));
                (hits.collect::<Vec<_>>(), total, tally)
            }
        };
        let hits = hits
            .into_iter()
            .map(|(score, address)| self.hit(searcher, address, score))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResults {
            hits,
            total: total as u64,
            facets: tally.into_facets(request.facets.as_ref()),
        })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: Option<f32>,
    ) -> Result<Hit, SearchError> {
        let doc: TantivyDocument = searcher
            .doc(address)
            .map_err(SearchError::engine("read a search hit"))?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let product_id = text(self.fields.product_id)
            .parse::<ProductId>()
            .map_err(|source| SearchError::Engine {
                action: "read a search hit's product id",
                source: Box::new(source),
            })?;
        Ok(Hit {
            product_id,
            slug: text(self.fields.slug),
            title: text(self.fields.title),
            score,
        })
    }

    fn suggest(
        &self,
        tenant: TenantId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, SearchError> {
        let Some(query) = matching::suggest_query(&self.fields, tenant, &self.analyzers, prefix)
        else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let candidates = searcher
            .search(
                query.as_ref(),
                &TopDocs::with_limit(limit * 5).order_by_score(),
            )
            .map_err(SearchError::engine("search suggestions"))?;
        let mut titles = Vec::with_capacity(candidates.len());
        for (_, address) in candidates {
            titles.push(self.hit(&searcher, address, None)?.title);
        }
        Ok(rank_suggestions(titles, prefix, limit))
    }

    fn count(&self, tenant: TenantId) -> Result<u64, SearchError> {
        let query = BooleanQuery::new(vec![matching::tenant_clause(&self.fields, tenant)]);
        let count = self
            .reader
            .searcher()
            .search(&query, &Count)
            .map_err(SearchError::engine("count documents"))?;
        Ok(count as u64)
    }
}

fn run<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    collector: C,
) -> Result<C::Fruit, SearchError> {
    searcher
        .search(query, &collector)
        .map_err(SearchError::engine("search"))
}

#[async_trait]
impl SearchIndex for EmbeddedIndex {
    fn backend_name(&self) -> &'static str {
        "embedded"
    }

    async fn upsert(&self, docs: Vec<ProductDocument>) -> Result<(), SearchError> {
        for doc in &docs {
            doc.validate()?;
        }
        let operations = self
            .inner
            .replacing(&docs, Vec::with_capacity(docs.len() * 2));
        self.inner.writer.apply(operations).await
    }

    async fn replace_tenant(
        &self,
        tenant: TenantId,
        docs: Vec<ProductDocument>,
    ) -> Result<(), SearchError> {
        for doc in &docs {
            doc.validate_for(tenant)?;
        }
        // One group: the writer never commits inside it, and a delete only affects documents
        // added before it, so the new documents survive the tenant-wide delete.
        let mut operations = Vec::with_capacity(docs.len() * 2 + 1);
        operations.push(UserOperation::Delete(matching::tenant_term(
            &self.inner.fields,
            tenant,
        )));
        let operations = self.inner.replacing(&docs, operations);
        self.inner.writer.apply(operations).await
    }

    async fn delete(&self, tenant: TenantId, products: &[ProductId]) -> Result<(), SearchError> {
        let key = self.inner.fields.key;
        let operations = products
            .iter()
            .map(|product| {
                UserOperation::Delete(Term::from_field_text(key, &document_key(tenant, *product)))
            })
            .collect();
        self.inner.writer.apply(operations).await
    }

    async fn delete_tenant(&self, tenant: TenantId) -> Result<(), SearchError> {
        let term = matching::tenant_term(&self.inner.fields, tenant);
        self.inner
            .writer
            .apply(vec![UserOperation::Delete(term)])
            .await
    }

    async fn search(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        query.validate()?;
        let query = query.clone();
        self.blocking(move |inner| inner.search(tenant, &query))
            .await
    }

    async fn suggest(
        &self,
        tenant: TenantId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, SearchError> {
        validate_suggest(prefix, limit)?;
        let prefix = prefix.to_owned();
        self.blocking(move |inner| inner.suggest(tenant, &prefix, limit))
            .await
    }

    async fn count(&self, tenant: TenantId) -> Result<u64, SearchError> {
        self.blocking(move |inner| inner.count(tenant)).await
    }

    async fn commit(&self) -> Result<(), SearchError> {
        self.inner.writer.commit().await
    }

    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }

    async fn ping(&self) -> Result<(), SearchError> {
        Ok(())
    }
}
