//! The Meilisearch backend: one index shared by all shops, every document carrying its
//! `tenant_id`, every read filtered on it. Kept thin: the SDK does the talking; this module
//! maps documents, builds filter expressions (with values escaped) and maps answers back.
//! It cannot run against a server on the build machine, so the pure parts are unit-tested
//! here and the wire format against a fake server in the integration tests.

use crate::document::{ATTRIBUTE_SEPARATOR, attribute_pair, document_key};
use crate::query::{
    FacetSpec, Facets, Filters, Hit, SearchQuery, SearchResults, Sort, StockCounts,
    rank_suggestions, top_values, validate_suggest,
};
use crate::{MeilisearchConfig, ProductDocument, SearchError, SearchIndex};
use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::documents::DocumentDeletionQuery;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::{
    SearchQuery as MeiliQuery, SearchResults as MeiliResults, Selectors,
};
use meilisearch_sdk::settings::{
    FacetSortValue, FacetingSettings, MinWordSizeForTypos, PaginationSetting, Settings,
    TypoToleranceSettings,
};
use meilisearch_sdk::tasks::Task;
use mercato_tenant_context::{ProductId, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

const PRIMARY_KEY: &str = "id";
/// Searched attributes, most important first (Meilisearch's `attribute` ranking rule).
const SEARCHABLE: [&str; 5] = [
    "title",
    "tags",
    "vendor_name",
    "attribute_values",
    "description",
];
const FILTERABLE: [&str; 8] = [
    "tenant_id",
    "indexed_at",
    "category_ids",
    "vendor_id",
    "attribute_pairs",
    "price_min",
    "price_max",
    "in_stock",
];
const SORTABLE: [&str; 2] = ["price_min", "created_at"];
const FACETS: [&str; 4] = ["category_ids", "vendor_id", "attribute_pairs", "in_stock"];
const RETRIEVED: [&str; 3] = ["product_id", "slug", "title"];
/// How long [`SearchIndex::commit`] and [`SearchIndex::prepare`] wait for a task.
const TASK_TIMEOUT: Duration = Duration::from_secs(60);
const TASK_POLL: Duration = Duration::from_millis(50);
/// Documents per add task (Meilisearch refuses payloads over 100 MB by default).
const ADD_BATCH: usize = 10_000;

/// A product as stored in Meilisearch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MeiliDocument {
    /// `<shop>_<product>`: the primary key.
    id: String,
    tenant_id: String,
    product_id: String,
    vendor_id: String,
    vendor_name: String,
    slug: String,
    title: String,
    description: String,
    tags: Vec<String>,
    category_ids: Vec<String>,
    /// Searched as text.
    attribute_values: Vec<String>,
    /// `code=value`, filtered and faceted on.
    attribute_pairs: Vec<String>,
    price_min: i64,
    price_max: i64,
    currency: String,
    in_stock: bool,
    /// Microseconds since the Unix epoch.
    created_at: i64,
    /// When this handle sent the document (microseconds since the epoch, increasing): a shop's
    /// reindex deletes its documents sent before the reindex began.
    indexed_at: i64,
}

impl MeiliDocument {
    fn new(doc: &ProductDocument, indexed_at: i64) -> Self {
        Self {
            id: doc.key(),
            tenant_id: doc.tenant.to_string(),
            product_id: doc.product_id.to_string(),
            vendor_id: doc.vendor_id.to_string(),
            vendor_name: doc.vendor_name.clone(),
            slug: doc.slug.clone(),
            title: doc.title.clone(),
            description: doc.description.clone(),
            tags: doc.tags.clone(),
            category_ids: doc.category_ids.iter().map(ToString::to_string).collect(),
            attribute_values: doc.attributes.iter().map(|a| a.value.clone()).collect(),
            attribute_pairs: doc
                .attributes
                .iter()
                .map(|a| attribute_pair(&a.code, &a.value))
                .collect(),
            price_min: doc.price_min,
            price_max: doc.price_max,
            currency: doc.currency.code().to_owned(),
            in_stock: doc.in_stock,
            created_at: doc.created_at.timestamp_micros(),
            indexed_at,
        }
    }
}

/// What a search retrieves of each hit.
#[derive(Debug, Deserialize)]
struct MeiliHit {
    product_id: String,
    slug: String,
    title: String,
}

/// A filter value as a double-quoted string. Meilisearch first turns `\"` into `"` inside
/// the quotes, then unescapes `\\` and the other backslash sequences, so doubling every
/// backslash before escaping the quotes gives back exactly the original text.
pub(crate) fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn quoted_list(values: impl IntoIterator<Item = String>) -> String {
    let quoted: Vec<String> = values.into_iter().map(|v| quote(&v)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The tenant condition every read and tenant-wide delete carries.
pub(crate) fn tenant_filter(tenant: TenantId) -> String {
    format!("tenant_id = {}", quote(&tenant.to_string()))
}

/// The tenant condition AND-ed with the query's filters.
pub(crate) fn filter_expression(tenant: TenantId, filters: &Filters) -> String {
    let mut parts = vec![tenant_filter(tenant)];
    if !filters.categories.is_empty() {
        parts.push(format!(
            "category_ids IN {}",
            quoted_list(filters.categories.iter().map(ToString::to_string))
        ));
    }
    if !filters.vendors.is_empty() {
        parts.push(format!(
            "vendor_id IN {}",
            quoted_list(filters.vendors.iter().map(ToString::to_string))
        ));
    }
    for (code, values) in &filters.attributes {
        parts.push(format!(
            "attribute_pairs IN {}",
            quoted_list(values.iter().map(|value| attribute_pair(code, value)))
        ));
    }
    if let Some(price) = filters.price {
        // The document's [price_min, price_max] overlaps [min, max].
        if let Some(max) = price.max {
            parts.push(format!("price_min <= {max}"));
        }
        if let Some(min) = price.min {
            parts.push(format!("price_max >= {min}"));
        }
    }
    if let Some(in_stock) = filters.in_stock {
        parts.push(format!("in_stock = {in_stock}"));
    }
    parts.join(" AND ")
}

/// The conditions selecting one price bucket, added to the query's filter.
pub(crate) fn bucket_filter(base: &str, from: Option<i64>, to: Option<i64>) -> String {
    let mut filter = base.to_owned();
    if let Some(from) = from {
        filter.push_str(&format!(" AND price_min >= {from}"));
    }
    if let Some(to) = to {
        filter.push_str(&format!(" AND price_min < {to}"));
    }
    filter
}

pub(crate) fn sort_rule(sort: Sort) -> Option<&'static str> {
    match sort {
        Sort::Relevance => None,
        Sort::PriceAsc => Some("price_min:asc"),
        Sort::PriceDesc => Some("price_min:desc"),
        Sort::Newest => Some("created_at:desc"),
    }
}

/// The index settings `prepare` applies: what is searched (in order of weight), filtered,
/// sorted and faceted, and typo budgets matching the embedded engine's.
pub(crate) fn settings() -> Settings {
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(FILTERABLE)
        .with_sortable_attributes(SORTABLE)
        .with_pagination(PaginationSetting {
            max_total_hits: crate::query::MAX_WINDOW,
        })
        .with_faceting(FacetingSettings {
            max_values_per_facet: crate::query::MAX_FACET_VALUES,
            sort_facet_values_by: Some(BTreeMap::from([("*".to_owned(), FacetSortValue::Count)])),
        })
        .with_typo_tolerance(TypoToleranceSettings {
            min_word_size_for_typos: Some(MinWordSizeForTypos {
                one_typo: Some(4),
                two_typos: Some(8),
            }),
            ..TypoToleranceSettings::default()
        })
}

/// Facets from Meilisearch's distribution plus the bucket counts.
pub(crate) fn facets_from(
    distribution: &HashMap<String, HashMap<String, usize>>,
    bucket_counts: &[u64],
    spec: &FacetSpec,
) -> Facets {
    let counts = |facet: &str| -> Vec<(String, u64)> {
        distribution
            .get(facet)
            .map(|values| {
                values
                    .iter()
                    .map(|(value, count)| (value.clone(), *count as u64))
                    .collect()
            })
            .unwrap_or_default()
    };
    fn parsed<T: std::str::FromStr>(counts: Vec<(String, u64)>) -> Vec<(T, u64)> {
        counts
            .into_iter()
            .filter_map(|(value, count)| value.parse().ok().map(|id| (id, count)))
            .collect()
    }
    let mut attributes: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (pair, count) in counts("attribute_pairs") {
        if let Some((code, value)) = pair.split_once(ATTRIBUTE_SEPARATOR) {
            attributes
                .entry(code.to_owned())
                .or_default()
                .push((value.to_owned(), count));
        }
    }
    let stock = counts("in_stock");
    let stock_of = |wanted: &str| {
        stock
            .iter()
            .find(|(value, _)| value == wanted)
            .map_or(0, |(_, count)| *count)
    };
    let mut price_buckets = spec.empty_buckets();
    for (bucket, count) in price_buckets.iter_mut().zip(bucket_counts) {
        bucket.count = *count;
    }
    Facets {
        categories: top_values(parsed(counts("category_ids")), spec.max_values),
        vendors: top_values(parsed(counts("vendor_id")), spec.max_values),
        price_buckets,
        attributes: attributes
            .into_iter()
            .map(|(code, values)| (code, top_values(values, spec.max_values)))
            .collect(),
        in_stock: StockCounts {
            in_stock: stock_of("true"),
            out_of_stock: stock_of("false"),
        },
    }
}

fn total_of<T>(results: &MeiliResults<T>) -> u64 {
    results
        .total_hits
        .or(results.estimated_total_hits)
        .unwrap_or_default() as u64
}

fn hit_from(hit: MeiliHit, score: Option<f64>) -> Result<Hit, SearchError> {
    let product_id = hit
        .product_id
        .parse::<ProductId>()
        .map_err(|source| SearchError::Engine {
            action: "read a search hit's product id",
            source: Box::new(source),
        })?;
    Ok(Hit {
        product_id,
        slug: hit.slug,
        title: hit.title,
        score: score.map(|score| score as f32),
    })
}

fn failed(action: &'static str) -> impl FnOnce(meilisearch_sdk::errors::Error) -> SearchError {
    move |source| SearchError::Engine {
        action,
        source: Box::new(source),
    }
}

/// A task uid as the SDK's `wait_for_task` takes it.
struct TaskUid(u32);

impl AsRef<u32> for TaskUid {
    fn as_ref(&self) -> &u32 {
        &self.0
    }
}

/// The Meilisearch backend.
pub struct MeilisearchIndex {
    client: Client,
    index: Index,
    /// The newest task this handle enqueued; `commit` waits for it (a server processes an
    /// index's tasks in order).
    last_task: Mutex<Option<u32>>,
    /// The last `indexed_at` stamp handed out.
    last_stamp: Mutex<i64>,
}

impl std::fmt::Debug for MeilisearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeilisearchIndex")
            .field("url", &self.client.get_host())
            .field("index", &self.index.uid)
            .finish_non_exhaustive()
    }
}

impl MeilisearchIndex {
    /// A client for `config`'s server and index. Makes no request.
    pub fn new(config: &MeilisearchConfig) -> Result<Self, SearchError> {
        config.validate()?;
        let key = Some(config.api_key.expose()).filter(|key| !key.is_empty());
        let client = Client::new(config.url.clone(), key).map_err(failed("build the client"))?;
        let index = client.index(config.index.clone());
        Ok(Self {
            client,
            index,
            last_task: Mutex::new(None),
            last_stamp: Mutex::new(0),
        })
    }

    fn enqueued(&self, task: u32) {
        if let Ok(mut last) = self.last_task.lock() {
            *last = Some(last.map_or(task, |previous| previous.max(task)));
        }
    }

    /// A stamp later than every earlier one from this handle, close to the clock.
    fn stamp(&self) -> i64 {
        let now = chrono::Utc::now().timestamp_micros();
        match self.last_stamp.lock() {
            Ok(mut last) => {
                *last = now.max(*last + 1);
                *last
            }
            Err(_) => now,
        }
    }

    /// Adds or replaces `docs` (already validated), in tasks of [`ADD_BATCH`].
    async fn add(&self, docs: &[ProductDocument], indexed_at: i64) -> Result<(), SearchError> {
        for batch in docs.chunks(ADD_BATCH) {
            let batch: Vec<MeiliDocument> = batch
                .iter()
                .map(|doc| MeiliDocument::new(doc, indexed_at))
                .collect();
            let task = self
                .index
                .add_or_replace(&batch, Some(PRIMARY_KEY))
                .await
                .map_err(failed("add documents"))?;
            self.enqueued(task.task_uid);
        }
        Ok(())
    }

    async fn delete_matching(&self, filter: &str) -> Result<(), SearchError> {
        let mut query = DocumentDeletionQuery::new(&self.index);
        query.with_filter(filter);
        let task = self
            .index
            .delete_documents_with(&query)
            .await
            .map_err(failed("delete a shop's documents"))?;
        self.enqueued(task.task_uid);
        Ok(())
    }

    async fn wait(&self, task: u32, action: &'static str) -> Result<(), SearchError> {
        match self
            .client
            .wait_for_task(TaskUid(task), Some(TASK_POLL), Some(TASK_TIMEOUT))
            .await
            .map_err(failed(action))?
        {
            Task::Failed { content } => Err(SearchError::Engine {
                action,
                source: Box::new(content.error),
            }),
            _ => Ok(()),
        }
    }

    /// A search of `tenant`'s products with `filter` (which already names the tenant).
    fn query<'a>(&'a self, filter: &'a str) -> MeiliQuery<'a, meilisearch_sdk::DefaultHttpClient> {
        let mut query = self.index.search();
        query.with_filter(filter);
        query
    }
}

#[async_trait]
impl SearchIndex for MeilisearchIndex {
    fn backend_name(&self) -> &'static str {
        "meilisearch"
    }

    async fn upsert(&self, docs: Vec<ProductDocument>) -> Result<(), SearchError> {
        for doc in &docs {
            doc.validate()?;
        }
        self.add(&docs, self.stamp()).await
    }

    async fn replace_tenant(
        &self,
        tenant: TenantId,
        docs: Vec<ProductDocument>,
    ) -> Result<(), SearchError> {
        for doc in &docs {
            doc.validate_for(tenant)?;
        }
        let stamp = self.stamp();
        self.add(&docs, stamp).await?;
        // Tasks run in order: this deletes what the shop had before, not what was just added.
        self.delete_matching(&format!(
            "{} AND indexed_at < {stamp}",
            tenant_filter(tenant)
        ))
        .await
    }

    async fn delete(&self, tenant: TenantId, products: &[ProductId]) -> Result<(), SearchError> {
        if products.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = products
            .iter()
            .map(|product| document_key(tenant, *product))
            .collect();
        let task = self
            .index
            .delete_documents(&keys)
            .await
            .map_err(failed("delete documents"))?;
        self.enqueued(task.task_uid);
        Ok(())
    }

    async fn delete_tenant(&self, tenant: TenantId) -> Result<(), SearchError> {
        self.delete_matching(&tenant_filter(tenant)).await
    }

    async fn search(
        &self,
        tenant: TenantId,
        request: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        request.validate()?;
        let filter = filter_expression(tenant, &request.filters);
        let text = request.text_str().unwrap_or_default();
        let sort: Vec<&str> = sort_rule(request.effective_sort()).into_iter().collect();
        let mut main = self.query(&filter);
        main.with_query(text)
            .with_attributes_to_retrieve(Selectors::Some(&RETRIEVED))
            .with_show_ranking_score(true);
        if request.offset.is_multiple_of(request.limit) {
            // Page mode makes Meilisearch count every hit instead of estimating.
            main.with_page(request.offset / request.limit + 1)
                .with_hits_per_page(request.limit);
        } else {
            main.with_offset(request.offset).with_limit(request.limit);
        }
        if !sort.is_empty() {
            main.with_sort(&sort);
        }
        let buckets = request
            .facets
            .as_ref()
            .map(|spec| spec.empty_buckets())
            .unwrap_or_default();
        let bucket_filters: Vec<String> = buckets
            .iter()
            .map(|bucket| bucket_filter(&filter, bucket.from, bucket.to))
            .collect();
        let mut multi = self.client.multi_search();
        if request.facets.is_some() {
            main.with_facets(Selectors::Some(&FACETS));
        }
        multi.with_search_query(main);
        for bucket_filter in &bucket_filters {
            let mut count = self.query(bucket_filter);
            count.with_query(text).with_page(1).with_hits_per_page(0);
            multi.with_search_query(count);
        }
        let mut answers = multi
            .execute::<MeiliHit>()
            .await
            .map_err(failed("search"))?
            .results
            .into_iter();
        let Some(main) = answers.next() else {
            return Ok(SearchResults::default());
        };
        let bucket_counts: Vec<u64> = answers.map(|answer| total_of(&answer)).collect();
        let total = total_of(&main);
        let facets = match &request.facets {
            Some(spec) => facets_from(
                &main.facet_distribution.clone().unwrap_or_default(),
                &bucket_counts,
                spec,
            ),
            None => Facets::default(),
        };
        let relevance = request.effective_sort() == Sort::Relevance;
        let hits = main
            .hits
            .into_iter()
            .map(|hit| hit_from(hit.result, hit.ranking_score.filter(|_| relevance)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResults {
            hits,
            total,
            facets,
        })
    }

    async fn suggest(
        &self,
        tenant: TenantId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, SearchError> {
        validate_suggest(prefix, limit)?;
        if prefix.trim().is_empty() {
            return Ok(Vec::new());
        }
        let filter = tenant_filter(tenant);
        let mut query = self.query(&filter);
        query
            .with_query(prefix)
            .with_attributes_to_search_on(&["title"])
            .with_attributes_to_retrieve(Selectors::Some(&RETRIEVED))
            .with_limit(limit * 5);
        let results = query
            .execute::<MeiliHit>()
            .await
            .map_err(failed("search suggestions"))?;
        let titles = results
            .hits
            .into_iter()
            .map(|hit| hit.result.title)
            .collect();
        Ok(rank_suggestions(titles, prefix, limit))
    }

    async fn count(&self, tenant: TenantId) -> Result<u64, SearchError> {
        let filter = tenant_filter(tenant);
        let mut query = self.query(&filter);
        query.with_page(1).with_hits_per_page(0);
        let results = query
            .execute::<MeiliHit>()
            .await
            .map_err(failed("count documents"))?;
        Ok(total_of(&results))
    }

    async fn commit(&self) -> Result<(), SearchError> {
        let last = self.last_task.lock().ok().and_then(|last| *last);
        match last {
            Some(task) => self.wait(task, "process index changes").await,
            None => Ok(()),
        }
    }

    async fn prepare(&self) -> Result<(), SearchError> {
        let task = self
            .index
            .set_settings(&settings())
            .await
            .map_err(failed("apply the index settings"))?;
        self.wait(task.task_uid, "apply the index settings").await
    }

    async fn ping(&self) -> Result<(), SearchError> {
        self.client
            .health()
            .await
            .map(drop)
            .map_err(failed("answer a health check"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::tests::sample;
    use crate::query::PriceRange;
    use mercato_tenant_context::{CategoryId, VendorId};

    #[test]
    fn quoting_survives_meilisearch_unescaping() {
        assert_eq!(quote("red"), r#""red""#);
        assert_eq!(quote(r#"12" vinyl"#), r#""12\" vinyl""#);
        assert_eq!(quote(r"C:\path"), r#""C:\\path""#);
        assert_eq!(quote(r#"a\"b"#), r#""a\\\"b""#);
        assert_eq!(
            quote(r#"" OR tenant_id = "x"#),
            r#""\" OR tenant_id = \"x""#
        );
        // What the server does inside double quotes: `\"` → `"`, then `\\` → `\`.
        let server_unescape = |quoted: &str| -> String {
            let inner = &quoted[1..quoted.len() - 1];
            let step = inner.replace("\\\"", "\"");
            let mut out = String::new();
            let mut chars = step.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        for value in ["plain", r#"a"b"#, r"a\b", r#"a\"b"#, r#"\\""#, r"trailing\"] {
            assert_eq!(server_unescape(&quote(value)), value, "{value}");
        }
    }

    #[test]
    fn every_filter_starts_with_the_tenant() {
        let tenant = TenantId::new();
        assert_eq!(
            filter_expression(tenant, &Filters::default()),
            format!("tenant_id = \"{tenant}\"")
        );
        let (category, vendor) = (CategoryId::new(), VendorId::new());
        let filters = Filters {
            categories: vec![category],
            vendors: vec![vendor],
            price: Some(PriceRange {
                min: Some(500),
                max: Some(2_000),
            }),
            attributes: BTreeMap::from([(
                "size".to_owned(),
                vec!["S".to_owned(), r#"12" "#.to_owned()],
            )]),
            in_stock: Some(true),
        };
        assert_eq!(
            filter_expression(tenant, &filters),
            format!(
                "tenant_id = \"{tenant}\" AND category_ids IN [\"{category}\"] AND vendor_id IN [\"{vendor}\"] \
                 AND attribute_pairs IN [\"size=S\", \"size=12\\\" \"] AND price_min <= 2000 \
                 AND price_max >= 500 AND in_stock = true"
            )
        );
        assert_eq!(
            bucket_filter("tenant_id = \"x\"", Some(1_000), Some(2_500)),
            "tenant_id = \"x\" AND price_min >= 1000 AND price_min < 2500"
        );
        assert_eq!(bucket_filter("f", None, Some(10)), "f AND price_min < 10");
        assert_eq!(bucket_filter("f", Some(10), None), "f AND price_min >= 10");
    }

    #[test]
    fn documents_map_with_their_tenant_and_key() {
        let doc = sample(TenantId::new());
        let meili = MeiliDocument::new(&doc, 42);
        assert_eq!(meili.id, document_key(doc.tenant, doc.product_id));
        assert_eq!(meili.tenant_id, doc.tenant.to_string());
        assert_eq!(meili.attribute_pairs, ["origin=Egypt"]);
        assert_eq!(meili.attribute_values, ["Egypt"]);
        assert_eq!(meili.currency, "EUR");
        assert_eq!(meili.created_at, doc.created_at.timestamp_micros());
        assert_eq!(meili.indexed_at, 42);
        let json = serde_json::to_value(&meili).unwrap();
        for field in FILTERABLE.iter().chain(&SORTABLE).chain(&SEARCHABLE) {
            assert!(json.get(field).is_some(), "documents have `{field}`");
        }
    }

    #[test]
    fn settings_make_the_tenant_filterable() {
        let json = serde_json::to_value(settings()).unwrap();
        assert!(
            json["filterableAttributes"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("tenant_id"))
        );
        assert_eq!(json["pagination"]["maxTotalHits"], 10_000);
        assert_eq!(json["typoTolerance"]["minWordSizeForTypos"]["oneTypo"], 4);
        assert_eq!(sort_rule(Sort::PriceAsc), Some("price_min:asc"));
        assert_eq!(sort_rule(Sort::Relevance), None);
    }

    #[test]
    fn facet_distributions_become_facets() {
        let (category, vendor) = (CategoryId::new(), VendorId::new());
        let distribution = HashMap::from([
            (
                "category_ids".to_owned(),
                HashMap::from([(category.to_string(), 3), ("junk".to_owned(), 1)]),
            ),
            (
                "vendor_id".to_owned(),
                HashMap::from([(vendor.to_string(), 2)]),
            ),
            (
                "attribute_pairs".to_owned(),
                HashMap::from([("size=M".to_owned(), 2), ("note=a=b".to_owned(), 1)]),
            ),
            (
                "in_stock".to_owned(),
                HashMap::from([("true".to_owned(), 2), ("false".to_owned(), 1)]),
            ),
        ]);
        let spec = FacetSpec {
            max_values: 10,
            price_edges: vec![1_000],
        };
        let facets = facets_from(&distribution, &[1, 2], &spec);
        assert_eq!(facets.categories.len(), 1);
        assert_eq!(facets.categories[0].value, category);
        assert_eq!(facets.vendors[0].value, vendor);
        assert_eq!(facets.attributes["size"][0].value, "M");
        assert_eq!(
            facets.attributes["note"][0].value, "a=b",
            "split at the first `=`"
        );
        assert_eq!(
            facets.in_stock,
            StockCounts {
                in_stock: 2,
                out_of_stock: 1
            }
        );
        assert_eq!(
            facets
                .price_buckets
                .iter()
                .map(|b| b.count)
                .collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn a_bad_config_is_refused_before_any_request() {
        let config = MeilisearchConfig {
            url: "localhost:7700".into(),
            ..MeilisearchConfig::default()
        };
        assert!(matches!(
            MeilisearchIndex::new(&config),
            Err(SearchError::InvalidConfig {
                key: "meilisearch.url",
                ..
            })
        ));
    }
}
