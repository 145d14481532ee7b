//! What a search asks and what it answers, the same on every backend.

use crate::SearchError;
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest page.
pub const MAX_LIMIT: usize = 100;
/// The deepest offset (`offset + limit`), as in most engines: deeper pages are not useful to
/// a shopper and cost a full collection each.
pub const MAX_WINDOW: usize = 10_000;
/// The longest query text, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Query words after this many are ignored.
pub const MAX_TERMS: usize = 10;
/// At most this many values in one filter list (categories, vendors, one attribute's values).
pub const MAX_FILTER_VALUES: usize = 100;
/// At most this many attribute codes filtered on at once.
pub const MAX_ATTRIBUTE_FILTERS: usize = 20;
/// At most this many price bucket edges.
pub const MAX_PRICE_EDGES: usize = 20;
/// The most values [`FacetSpec::max_values`] may ask for.
pub const MAX_FACET_VALUES: usize = 100;
/// The longest suggestion prefix, in characters.
pub const MAX_PREFIX_CHARS: usize = 100;
/// The most suggestions one call returns.
pub const MAX_SUGGESTIONS: usize = 20;

/// A product search inside one shop (the shop is passed next to it, never inside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchQuery {
    /// Words to look for, typo-tolerant; the last word also matches as a prefix. `None`, or
    /// text with no words, lists every product that passes the filters.
    pub text: Option<String>,
    pub filters: Filters,
    pub sort: Sort,
    /// 1..=[`MAX_LIMIT`]; default 20.
    pub limit: usize,
    /// Hits to skip; `offset + limit` at most [`MAX_WINDOW`].
    pub offset: usize,
    /// Which facets to count; `None` skips them (cheaper) and answers empty [`Facets`].
    pub facets: Option<FacetSpec>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: None,
            filters: Filters::default(),
            sort: Sort::Relevance,
            limit: 20,
            offset: 0,
            facets: Some(FacetSpec::default()),
        }
    }
}

impl SearchQuery {
    /// A query for `text` with the defaults (relevance, 20 hits, every facet).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Every product of the shop that passes the filters (a category page).
    pub fn browse(filters: Filters) -> Self {
        Self {
            filters,
            ..Self::default()
        }
    }

    /// Checks the limits above; every backend runs it before searching.
    pub fn validate(&self) -> Result<(), SearchError> {
        let invalid = |field, message| Err(SearchError::InvalidQuery { field, message });
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return invalid("limit", "must be between 1 and 100");
        }
        if self.offset.saturating_add(self.limit) > MAX_WINDOW {
            return invalid("offset", "offset + limit must be at most 10000");
        }
        if let Some(text) = &self.text
            && text.chars().count() > MAX_TEXT_CHARS
        {
            return invalid("text", "must be at most 200 characters");
        }
        self.filters.validate()?;
        if let Some(spec) = &self.facets {
            spec.validate()?;
        }
        Ok(())
    }

    /// The query text, if it has any non-blank character.
    pub(crate) fn text_str(&self) -> Option<&str> {
        self.text.as_deref().filter(|text| !text.trim().is_empty())
    }

    /// The sort actually applied: relevance without words means newest first.
    pub(crate) fn effective_sort(&self) -> Sort {
        match (self.sort, self.text_str()) {
            (Sort::Relevance, None) => Sort::Newest,
            (sort, _) => sort,
        }
    }
}

/// Conditions every hit meets. Within one list any value matches (OR); the lists themselves
/// all have to match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filters {
    /// In any of these categories or below them (documents carry their ancestors).
    pub categories: Vec<CategoryId>,
    /// Listed by any of these vendors.
    pub vendors: Vec<VendorId>,
    /// Some variant's price lies in the range (the document's range overlaps it).
    pub price: Option<PriceRange>,
    /// `code` → accepted values: for each code the product has one of the values.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// `Some(true)`: only buyable products; `Some(false)`: only sold-out ones.
    pub in_stock: Option<bool>,
}

impl Filters {
    fn validate(&self) -> Result<(), SearchError> {
        let invalid = |field, message| Err(SearchError::InvalidQuery { field, message });
        if self.categories.len() > MAX_FILTER_VALUES {
            return invalid("filters.categories", "at most 100 categories");
        }
        if self.vendors.len() > MAX_FILTER_VALUES {
            return invalid("filters.vendors", "at most 100 vendors");
        }
        if let Some(price) = &self.price {
            if price.min.is_some_and(|min| min < 0) {
                return invalid("filters.price.min", "must not be negative");
            }
            if let (Some(min), Some(max)) = (price.min, price.max)
                && min > max
            {
                return invalid("filters.price.max", "must not be below the minimum");
            }
        }
        if self.attributes.len() > MAX_ATTRIBUTE_FILTERS {
            return invalid("filters.attributes", "at most 20 attributes");
        }
        for (code, values) in &self.attributes {
            if code.is_empty() || code.chars().any(char::is_control) {
                return invalid(
                    "filters.attributes",
                    "attribute codes must be non-empty text",
                );
            }
            if values.is_empty() || values.len() > MAX_FILTER_VALUES {
                return invalid(
                    "filters.attributes",
                    "each attribute needs between 1 and 100 values",
                );
            }
            if values
                .iter()
                .any(|value| value.chars().any(char::is_control))
            {
                return invalid(
                    "filters.attributes",
                    "attribute values must not have control characters",
                );
            }
        }
        Ok(())
    }
}

/// A price range in minor units, both ends included; an open end is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// How hits are ordered. Ties keep index order, which is stable between identical queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first; without words, the same as `Newest`.
    #[default]
    Relevance,
    /// Lowest "from" price (`price_min`) first.
    PriceAsc,
    /// Highest "from" price first.
    PriceDesc,
    /// Most recently created first.
    Newest,
}

/// Which facets to count, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacetSpec {
    /// The most values listed per facet (per attribute code for attributes), by count.
    pub max_values: usize,
    /// Ascending bucket edges in minor units: edges `[a, b]` make the buckets `< a`,
    /// `a..b` and `>= b`, counted on `price_min`.
    pub price_edges: Vec<i64>,
}

/// 10, 25, 50, 100, 250 and 500 in a two-decimal currency.
pub const DEFAULT_PRICE_EDGES: [i64; 6] = [1_000, 2_500, 5_000, 10_000, 25_000, 50_000];

impl Default for FacetSpec {
    fn default() -> Self {
        Self {
            max_values: 20,
            price_edges: DEFAULT_PRICE_EDGES.to_vec(),
        }
    }
}

impl FacetSpec {
    fn validate(&self) -> Result<(), SearchError> {
        let invalid = |field, message| Err(SearchError::InvalidQuery { field, message });
        if self.max_values == 0 || self.max_values > MAX_FACET_VALUES {
            return invalid("facets.max_values", "must be between 1 and 100");
        }
        if self.price_edges.len() > MAX_PRICE_EDGES {
            return invalid("facets.price_edges", "at most 20 edges");
        }
        if self.price_edges.windows(2).any(|pair| pair[0] >= pair[1]) {
            return invalid("facets.price_edges", "must be strictly ascending");
        }
        Ok(())
    }

    /// The buckets the edges make, with zero counts.
    pub(crate) fn empty_buckets(&self) -> Vec<PriceBucket> {
        let mut buckets = Vec::with_capacity(self.price_edges.len() + 1);
        let mut from = None;
        for &edge in &self.price_edges {
            buckets.push(PriceBucket {
                from,
                to: Some(edge),
                count: 0,
            });
            from = Some(edge);
        }
        buckets.push(PriceBucket {
            from,
            to: None,
            count: 0,
        });
        buckets
    }

    /// The index of the bucket `price` falls in.
    pub(crate) fn bucket_of(&self, price: i64) -> usize {
        self.price_edges.partition_point(|&edge| edge <= price)
    }
}

/// What a search answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The requested page, in order.
    pub hits: Vec<Hit>,
    /// How many products match in all (Meilisearch: exact up to its `maxTotalHits`).
    pub total: u64,
    pub facets: Facets,
}

/// One matching product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub product_id: ProductId,
    pub slug: String,
    pub title: String,
    /// The relevance score when sorted by relevance (comparable within one answer only).
    pub score: Option<f32>,
}

/// Counts over every matching product (not just the page), each list by count descending,
/// then value. The counts reflect all filters, including the facet's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub categories: Vec<FacetCount<CategoryId>>,
    pub vendors: Vec<FacetCount<VendorId>>,
    /// One per bucket of [`FacetSpec::price_edges`], in price order, empty ones included.
    pub price_buckets: Vec<PriceBucket>,
    /// Attribute code → its values.
    pub attributes: BTreeMap<String, Vec<FacetCount<String>>>,
    pub in_stock: StockCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount<T> {
    pub value: T,
    pub count: u64,
}

/// Products whose `price_min` is in `from..to` (`None`: open end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBucket {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCounts {
    pub in_stock: u64,
    pub out_of_stock: u64,
}

/// Orders facet values by count descending, then value, and keeps the first `max`.
pub(crate) fn top_values<T: Ord>(
    counts: impl IntoIterator<Item = (T, u64)>,
    max: usize,
) -> Vec<FacetCount<T>> {
    let mut values: Vec<FacetCount<T>> = counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(max);
    values
}

/// Checks a suggestion request's prefix and limit.
pub(crate) fn validate_suggest(prefix: &str, limit: usize) -> Result<(), SearchError> {
    if prefix.chars().count() > MAX_PREFIX_CHARS {
        return Err(SearchError::InvalidQuery {
            field: "prefix",
            message: "must be at most 100 characters",
        });
    }
    if limit == 0 || limit > MAX_SUGGESTIONS {
        return Err(SearchError::InvalidQuery {
            field: "limit",
            message: "must be between 1 and 20",
        });
    }
    Ok(())
}

/// Titles that start with what was typed first, then shorter ones, then alphabetically;
/// the same title twice (ignoring case) once.
pub(crate) fn rank_suggestions(titles: Vec<String>, prefix: &str, limit: usize) -> Vec<String> {
    let typed = prefix.trim_start().to_lowercase();
    let mut ranked: Vec<(bool, usize, String, String)> = titles
        .into_iter()
        .map(|title| {
            let folded = title.to_lowercase();
            (
                !folded.starts_with(&typed),
                title.chars().count(),
                folded,
                title,
            )
        })
        .collect();
    ranked.sort();
    ranked.dedup_by(|a, b| a.2 == b.2);
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, _, _, title)| title)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(query: &SearchQuery) -> &'static str {
        match query.validate() {
            Err(SearchError::InvalidQuery { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_query_is_valid_and_browses_newest_first() {
        let query = SearchQuery::default();
        assert!(query.validate().is_ok());
        assert_eq!(query.effective_sort(), Sort::Newest);
        assert_eq!(SearchQuery::text("tea").effective_sort(), Sort::Relevance);
        assert_eq!(SearchQuery::text("   ").effective_sort(), Sort::Newest);
    }

    #[test]
    fn out_of_range_queries_name_the_field() {
        let cases: Vec<(SearchQuery, &str)> = vec![
            (
                SearchQuery {
                    limit: 0,
                    ..SearchQuery::default()
                },
                "limit",
            ),
            (
                SearchQuery {
                    limit: 101,
                    ..SearchQuery::default()
                },
                "limit",
            ),
            (
                SearchQuery {
                    offset: 9_990,
                    limit: 20,
                    ..SearchQuery::default()
                },
                "offset",
            ),
            (SearchQuery::text("x".repeat(201)), "text"),
            (
                SearchQuery::browse(Filters {
                    price: Some(PriceRange {
                        min: Some(500),
                        max: Some(100),
                    }),
                    ..Filters::default()
                }),
                "filters.price.max",
            ),
            (
                SearchQuery::browse(Filters {
                    price: Some(PriceRange {
                        min: Some(-1),
                        max: None,
                    }),
                    ..Filters::default()
                }),
                "filters.price.min",
            ),
            (
                SearchQuery::browse(Filters {
                    attributes: BTreeMap::from([("colour".into(), vec![])]),
                    ..Filters::default()
                }),
                "filters.attributes",
            ),
            (
                SearchQuery {
                    facets: Some(FacetSpec {
                        max_values: 20,
                        price_edges: vec![100, 100],
                    }),
                    ..SearchQuery::default()
                },
                "facets.price_edges",
            ),
        ];
        for (query, field) in cases {
            assert_eq!(field_of(&query), field, "{query:?}");
        }
    }

    #[test]
    fn price_buckets_follow_the_edges() {
        let spec = FacetSpec {
            max_values: 10,
            price_edges: vec![1_000, 5_000],
        };
        let buckets = spec.empty_buckets();
        assert_eq!(
            buckets.iter().map(|b| (b.from, b.to)).collect::<Vec<_>>(),
            [
                (None, Some(1_000)),
                (Some(1_000), Some(5_000)),
                (Some(5_000), None)
            ]
        );
        assert_eq!(spec.bucket_of(0), 0);
        assert_eq!(spec.bucket_of(999), 0);
        assert_eq!(spec.bucket_of(1_000), 1, "an edge opens its bucket");
        assert_eq!(spec.bucket_of(4_999), 1);
        assert_eq!(spec.bucket_of(5_000), 2);
        let none = FacetSpec {
            max_values: 10,
            price_edges: vec![],
        };
        assert_eq!(none.empty_buckets().len(), 1);
        assert_eq!(none.bucket_of(42), 0);
    }

    #[test]
    fn facet_values_are_ordered_by_count_then_value() {
        let top = top_values([("b", 2), ("a", 2), ("c", 5), ("z", 0), ("d", 1)], 3);
        assert_eq!(
            top.iter().map(|f| (f.value, f.count)).collect::<Vec<_>>(),
            [("c", 5), ("a", 2), ("b", 2)]
        );
    }

    #[test]
    fn queries_read_from_json_strictly() {
        let query: SearchQuery = serde_json::from_value(serde_json::json!({
            "text": "tea",
            "sort": "price_asc",
            "filters": { "in_stock": true, "attributes": { "origin": ["Egypt"] } }
        }))
        .unwrap();
        assert_eq!(query.sort, Sort::PriceAsc);
        assert_eq!(query.limit, 20);
        assert_eq!(query.filters.in_stock, Some(true));
        assert!(
            serde_json::from_value::<SearchQuery>(serde_json::json!({ "txt": "tea" })).is_err()
        );
    }

    #[test]
    fn suggestion_requests_are_bounded() {
        assert!(validate_suggest("cha", 5).is_ok());
        assert!(validate_suggest("cha", 0).is_err());
        assert!(validate_suggest("cha", 21).is_err());
        assert!(validate_suggest(&"x".repeat(101), 5).is_err());
    }

    #[test]
    fn suggestions_put_what_was_typed_first() {
        let titles = [
            "Organic Chamomile Tea",
            "Chamomile",
            "chamomile",
            "Chamomile Tea Bags",
            "Calming Chamomile",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            rank_suggestions(titles.clone(), "cham", 10),
            [
                "Chamomile",
                "Chamomile Tea Bags",
                "Calming Chamomile",
                "Organic Chamomile Tea"
            ]
        );
        assert_eq!(rank_suggestions(titles, "cham", 1), ["Chamomile"]);
    }
}
