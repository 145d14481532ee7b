//! Facet counts and filters: categories with their descendants, vendors, price ranges and
//! buckets, attributes, stock.

use crate::support::{
    CHAMOMILE, COFFEE, EARL_GREY, PEPPERMINT, SLEEP_BLEND, TEAPOT, TeaShop, title_set,
};
use mercato_search::{FacetSpec, Filters, PriceBucket, PriceRange, SearchQuery, StockCounts};
use std::collections::BTreeMap;

fn edges() -> FacetSpec {
    FacetSpec {
        max_values: 20,
        price_edges: vec![500, 1_000, 2_000],
    }
}

#[tokio::test]
async fn browsing_counts_every_facet() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                facets: Some(edges()),
                ..SearchQuery::default()
            },
        )
        .await
        .unwrap();
    let facets = results.facets;

    let categories: Vec<_> = facets
        .categories
        .iter()
        .map(|f| (f.value, f.count))
        .collect();
    assert_eq!(
        categories[..3],
        [(shop.drinks, 5), (shop.tea, 4), (shop.herbal, 3)],
        "a parent counts its descendants' products"
    );
    let mut ones: Vec<_> = categories[3..].to_vec();
    ones.sort();
    let mut expected = vec![(shop.coffee, 1), (shop.kitchen, 1), (shop.teapots, 1)];
    expected.sort();
    assert_eq!(ones, expected);

    let vendors: Vec<_> = facets.vendors.iter().map(|f| (f.value, f.count)).collect();
    assert_eq!(vendors[0], (shop.tea_masters, 3));
    assert_eq!(vendors[1], (shop.leaf_and_kettle, 2));
    assert_eq!(vendors[2], (shop.roastery, 1));

    assert_eq!(
        facets.price_buckets,
        [
            PriceBucket {
                from: None,
                to: Some(500),
                count: 2
            },
            PriceBucket {
                from: Some(500),
                to: Some(1_000),
                count: 2
            },
            PriceBucket {
                from: Some(1_000),
                to: Some(2_000),
                count: 1
            },
            PriceBucket {
                from: Some(2_000),
                to: None,
                count: 1
            },
        ]
    );

    let attributes: BTreeMap<&str, Vec<(&str, u64)>> = facets
        .attributes
        .iter()
        .map(|(code, values)| {
            (
                code.as_str(),
                values.iter().map(|f| (f.value.as_str(), f.count)).collect(),
            )
        })
        .collect();
    assert_eq!(
        attributes,
        BTreeMap::from([
            ("material", vec![("iron", 1)]),
            ("organic", vec![("true", 1)]),
            (
                "origin",
                vec![("Egypt", 2), ("Colombia", 1), ("India", 1), ("Morocco", 1)]
            ),
            ("roast", vec![("medium", 1)]),
        ])
    );
    assert_eq!(
        facets.in_stock,
        StockCounts {
            in_stock: 5,
            out_of_stock: 1
        }
    );
}

#[tokio::test]
async fn facets_count_only_what_the_text_matches() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("herbal"))
        .await
        .unwrap();
    assert_eq!(results.total, 3);
    let vendors: Vec<_> = results
        .facets
        .vendors
        .iter()
        .map(|f| (f.value, f.count))
        .collect();
    assert_eq!(vendors, [(shop.leaf_and_kettle, 2), (shop.tea_masters, 1)]);
    assert_eq!(results.facets.in_stock.in_stock, 3);
    let bucket_total: u64 = results.facets.price_buckets.iter().map(|b| b.count).sum();
    assert_eq!(bucket_total, 3, "every match falls in one bucket");
    assert_eq!(
        results.facets.price_buckets.len(),
        mercato_search::DEFAULT_PRICE_EDGES.len() + 1
    );
}

#[tokio::test]
async fn facet_lists_are_cut_to_the_requested_size() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                facets: Some(FacetSpec {
                    max_values: 1,
                    price_edges: vec![],
                }),
                ..SearchQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(results.facets.categories.len(), 1);
    assert_eq!(results.facets.categories[0].value, shop.drinks);
    assert_eq!(results.facets.attributes["origin"].len(), 1);
    assert_eq!(results.facets.price_buckets.len(), 1);
    assert_eq!(results.facets.price_buckets[0].count, 6);
}

#[tokio::test]
async fn without_a_facet_spec_no_facets_are_counted() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                facets: None,
                ..SearchQuery::text("tea")
            },
        )
        .await
        .unwrap();
    assert!(results.total > 0);
    assert_eq!(results.facets, Default::default());
}

#[tokio::test]
async fn a_category_filter_matches_its_descendants() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let in_categories = |categories| {
        SearchQuery::browse(Filters {
            categories,
            ..Filters::default()
        })
    };

    let results = index
        .search(shop.tenant, &in_categories(vec![shop.drinks]))
        .await
        .unwrap();
    assert_eq!(
        title_set(&results),
        [SLEEP_BLEND, COFFEE, EARL_GREY, CHAMOMILE, PEPPERMINT]
    );
    let results = index
        .search(shop.tenant, &in_categories(vec![shop.herbal]))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [SLEEP_BLEND, CHAMOMILE, PEPPERMINT]);
    let results = index
        .search(shop.tenant, &in_categories(vec![shop.coffee, shop.teapots]))
        .await
        .unwrap();
    assert_eq!(
        title_set(&results),
        [TEAPOT, COFFEE],
        "any of the categories"
    );
}

#[tokio::test]
async fn a_vendor_filter_keeps_their_products() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery::browse(Filters {
                vendors: vec![shop.tea_masters],
                ..Filters::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(title_set(&results), [TEAPOT, SLEEP_BLEND, EARL_GREY]);
}

#[tokio::test]
async fn a_price_range_matches_products_with_a_variant_inside_it() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let priced = |min, max| {
        SearchQuery::browse(Filters {
            price: Some(PriceRange { min, max }),
            ..Filters::default()
        })
    };
    // Chamomile is 4.50–9.00 and Earl Grey 6.50–12.00: both overlap 8.00–10.00; the sleep
    // blend (7.99) does not.
    let results = index
        .search(shop.tenant, &priced(Some(800), Some(1_000)))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [EARL_GREY, CHAMOMILE]);
    let results = index
        .search(shop.tenant, &priced(None, Some(450)))
        .await
        .unwrap();
    assert_eq!(
        title_set(&results),
        [CHAMOMILE, PEPPERMINT],
        "both ends included"
    );
    let results = index
        .search(shop.tenant, &priced(Some(2_500), None))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [TEAPOT]);
    let results = index
        .search(shop.tenant, &priced(Some(2_499), None))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [TEAPOT, COFFEE]);
}

#[tokio::test]
async fn attribute_filters_take_any_value_of_each_code_and_every_code() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let with = |attributes: &[(&str, &[&str])]| {
        SearchQuery::browse(Filters {
            attributes: attributes
                .iter()
                .map(|(code, values)| {
                    (
                        code.to_string(),
                        values.iter().map(|v| v.to_string()).collect(),
                    )
                })
                .collect(),
            ..Filters::default()
        })
    };
    let results = index
        .search(shop.tenant, &with(&[("origin", &["Egypt", "India"])]))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [SLEEP_BLEND, EARL_GREY, CHAMOMILE]);
    let results = index
        .search(
            shop.tenant,
            &with(&[("origin", &["Egypt", "India"]), ("organic", &["true"])]),
        )
        .await
        .unwrap();
    assert_eq!(title_set(&results), [CHAMOMILE]);
    let results = index
        .search(shop.tenant, &with(&[("origin", &["egypt"])]))
        .await
        .unwrap();
    assert_eq!(results.total, 0, "values match exactly as indexed");
}

#[tokio::test]
async fn a_stock_filter_keeps_or_drops_sold_out_products() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let stock = |in_stock| {
        SearchQuery::browse(Filters {
            in_stock: Some(in_stock),
            ..Filters::default()
        })
    };
    let results = index.search(shop.tenant, &stock(false)).await.unwrap();
    assert_eq!(title_set(&results), [EARL_GREY]);
    let results = index.search(shop.tenant, &stock(true)).await.unwrap();
    assert_eq!(results.total, 5);
}

#[tokio::test]
async fn text_and_filters_combine() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                filters: Filters {
                    categories: vec![shop.tea],
                    in_stock: Some(true),
                    price: Some(PriceRange {
                        min: None,
                        max: Some(500),
                    }),
                    ..Filters::default()
                },
                ..SearchQuery::text("tea")
            },
        )
        .await
        .unwrap();
    assert_eq!(title_set(&results), [CHAMOMILE]);
    assert_eq!(results.facets.categories.len(), 3, "herbal, tea and drinks");
}
