//! Facet counting in one pass over the matching documents, next to the top-docs and count
//! collectors. Per segment it counts term ordinals of the `category`, `vendor` and
//! `attribute` fast columns in flat arrays and reads `price_min` and `in_stock` per
//! document; term text is looked up only for ordinals that were counted, when the segment
//! is harvested.

use super::schema::{ATTRIBUTE, CATEGORY, IN_STOCK, PRICE_MIN, VENDOR};
use crate::document::ATTRIBUTE_SEPARATOR;
use crate::query::{FacetSpec, Facets, StockCounts, top_values};
use std::collections::{BTreeMap, HashMap};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts facets when given a spec; does nothing (and answers empty facets) without one.
pub(crate) struct FacetCollector {
    spec: Option<FacetSpec>,
}

impl FacetCollector {
    pub(crate) fn new(spec: Option<FacetSpec>) -> Self {
        Self { spec }
    }
}

/// Raw counts of one segment, or of all of them merged.
#[derive(Default)]
pub(crate) struct Tally {
    categories: HashMap<String, u64>,
    vendors: HashMap<String, u64>,
    attributes: HashMap<String, u64>,
    buckets: Vec<u64>,
    in_stock: u64,
    out_of_stock: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        for (mine, theirs) in [
            (&mut self.categories, other.categories),
            (&mut self.vendors, other.vendors),
            (&mut self.attributes, other.attributes),
        ] {
            for (value, count) in theirs {
                *mine.entry(value).or_default() += count;
            }
        }
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.in_stock += other.in_stock;
        self.out_of_stock += other.out_of_stock;
    }

    /// The public facets: ids parsed (a value that does not parse is skipped), lists ordered
    /// and cut to `spec.max_values`.
    pub(crate) fn into_facets(self, spec: Option<&FacetSpec>) -> Facets {
        let Some(spec) = spec else {
            return Facets::default();
        };
        let mut attributes: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        for (pair, count) in self.attributes {
            if let Some((code, value)) = pair.split_once(ATTRIBUTE_SEPARATOR) {
                attributes
                    .entry(code.to_owned())
                    .or_default()
                    .push((value.to_owned(), count));
            }
        }
        let mut price_buckets = spec.empty_buckets();
        for (bucket, count) in price_buckets.iter_mut().zip(self.buckets) {
            bucket.count = count;
        }
        Facets {
            categories: top_values(parse_ids(self.categories), spec.max_values),
            vendors: top_values(parse_ids(self.vendors), spec.max_values),
            price_buckets,
            attributes: attributes
                .into_iter()
                .map(|(code, values)| (code, top_values(values, spec.max_values)))
                .collect(),
            in_stock: StockCounts {
                in_stock: self.in_stock,
                out_of_stock: self.out_of_stock,
            },
        }
    }
}

fn parse_ids<T: std::str::FromStr>(counts: HashMap<String, u64>) -> Vec<(T, u64)> {
    counts
        .into_iter()
        .filter_map(|(id, count)| id.parse().ok().map(|id| (id, count)))
        .collect()
}

impl Collector for FacetCollector {
    type Fruit = Tally;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let Some(spec) = &self.spec else {
            return Ok(SegmentFacets::Off);
        };
        let fast = reader.fast_fields();
        let terms = |name: &str| -> tantivy::Result<Option<TermCounts>> {
            Ok(fast.str(name)?.map(|column| {
                let counts = vec![0; column.num_terms()];
                TermCounts { column, counts }
            }))
        };
        Ok(SegmentFacets::On(Box::new(OnSegment {
            spec: spec.clone(),
            categories: terms(CATEGORY)?,
            vendors: terms(VENDOR)?,
            attributes: terms(ATTRIBUTE)?,
            price: fast.i64(PRICE_MIN)?,
            stock: fast.bool(IN_STOCK)?,
            buckets: vec![0; spec.price_edges.len() + 1],
            in_stock: 0,
            out_of_stock: 0,
        })))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tally>) -> tantivy::Result<Tally> {
        let mut total = Tally::default();
        for fruit in fruits {
            total.add(fruit);
        }
        Ok(total)
    }
}

pub(crate) enum SegmentFacets {
    Off,
    On(Box<OnSegment>),
}

pub(crate) struct OnSegment {
    spec: FacetSpec,
    categories: Option<TermCounts>,
    vendors: Option<TermCounts>,
    attributes: Option<TermCounts>,
    price: Column<i64>,
    stock: Column<bool>,
    buckets: Vec<u64>,
    in_stock: u64,
    out_of_stock: u64,
}

/// Counts per term ordinal of one string column.
struct TermCounts {
    column: StrColumn,
    counts: Vec<u64>,
}

impl TermCounts {
    fn collect(&mut self, doc: DocId) {
        for ord in self.column.term_ords(doc) {
            if let Some(count) = usize::try_from(ord)
                .ok()
                .and_then(|ord| self.counts.get_mut(ord))
            {
                *count += 1;
            }
        }
    }

    fn harvest(self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        let mut text = String::new();
        for (ord, count) in self.counts.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            // A term that cannot be read back is left out of the facet, not fatal to the search.
            if let Ok(true) = self.column.ord_to_str(ord as u64, &mut text) {
                out.insert(text.clone(), count);
            }
        }
        out
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Tally;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let SegmentFacets::On(segment) = self else {
            return;
        };
        for terms in [
            &mut segment.categories,
            &mut segment.vendors,
            &mut segment.attributes,
        ]
        .into_iter()
        .flatten()
        {
            terms.collect(doc);
        }
        if let Some(price) = segment.price.first(doc)
            && let Some(bucket) = segment.buckets.get_mut(segment.spec.bucket_of(price))
        {
            *bucket += 1;
        }
        match segment.stock.first(doc) {
            Some(true) => segment.in_stock += 1,
            Some(false) => segment.out_of_stock += 1,
            None => {}
        }
    }

    fn harvest(self) -> Tally {
        let SegmentFacets::On(segment) = self else {
            return Tally::default();
        };
        let segment = *segment;
        Tally {
            categories: segment
                .categories
                .map(TermCounts::harvest)
                .unwrap_or_default(),
            vendors: segment.vendors.map(TermCounts::harvest).unwrap_or_default(),
            attributes: segment
                .attributes
                .map(TermCounts::harvest)
                .unwrap_or_default(),
            buckets: segment.buckets,
            in_stock: segment.in_stock,
            out_of_stock: segment.out_of_stock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PriceBucket;
    use mercato_tenant_context::{CategoryId, VendorId};

    #[test]
    fn tallies_merge_and_become_ordered_facets() {
        let (cat_a, cat_b, vendor) = (CategoryId::new(), CategoryId::new(), VendorId::new());
        let spec = FacetSpec {
            max_values: 1,
            price_edges: vec![1_000],
        };
        let mut total = Tally::default();
        total.add(Tally {
            categories: HashMap::from([(cat_a.to_string(), 2), (cat_b.to_string(), 1)]),
            vendors: HashMap::from([(vendor.to_string(), 3), ("garbage".into(), 9)]),
            attributes: HashMap::from([
                (format!("colour{ATTRIBUTE_SEPARATOR}red"), 2),
                (format!("colour{ATTRIBUTE_SEPARATOR}blue"), 1),
            ]),
            buckets: vec![1, 2],
            in_stock: 2,
            out_of_stock: 1,
        });
        total.add(Tally {
            categories: HashMap::from([(cat_b.to_string(), 4)]),
            buckets: vec![0, 1],
            in_stock: 1,
            ..Tally::default()
        });
        let facets = total.into_facets(Some(&spec));
        assert_eq!(facets.categories.len(), 1, "cut to max_values");
        assert_eq!(
            (facets.categories[0].value, facets.categories[0].count),
            (cat_b, 5)
        );
        assert_eq!(
            facets.vendors.len(),
            1,
            "an id that does not parse is left out"
        );
        assert_eq!(facets.vendors[0].value, vendor);
        assert_eq!(facets.attributes["colour"][0].value, "red");
        assert_eq!(
            facets.price_buckets,
            [
                PriceBucket {
                    from: None,
                    to: Some(1_000),
                    count: 1
                },
                PriceBucket {
                    from: Some(1_000),
                    to: None,
                    count: 3
                },
            ]
        );
        assert_eq!(
            facets.in_stock,
            StockCounts {
                in_stock: 3,
                out_of_stock: 1
            }
        );
        assert_eq!(Tally::default().into_facets(None), Facets::default());
    }
}
