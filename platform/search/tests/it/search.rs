//! Full text: typos, stems, prefixes, fields and their weights, sorting and pages.

use crate::support::{
    CHAMOMILE, COFFEE, EARL_GREY, PEPPERMINT, SLEEP_BLEND, TEAPOT, TeaShop, title_set, titles,
};
use mercato_search::{SearchError, SearchQuery, Sort};

#[tokio::test]
async fn a_misspelt_word_finds_the_product() {
    let shop = TeaShop::new();
    let index = shop.index().await;

    let results = index
        .search(shop.tenant, &SearchQuery::text("chamomille"))
        .await
        .unwrap();

    assert_eq!(title_set(&results), [SLEEP_BLEND, CHAMOMILE]);
    assert_eq!(results.total, 2);
    let results = index
        .search(shop.tenant, &SearchQuery::text("peppermnit infsuion"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [PEPPERMINT], "a typo in every word");
    let results = index
        .search(shop.tenant, &SearchQuery::text("Camomile"))
        .await
        .unwrap();
    assert_eq!(results.total, 2, "a missing letter, any case");
}

#[tokio::test]
async fn short_words_must_be_spelt_right() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("tae "))
        .await
        .unwrap();
    assert!(results.hits.is_empty(), "{:?}", titles(&results));
}

#[tokio::test]
async fn words_match_in_every_searchable_field() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let search = |text: &'static str| {
        let index = index.clone();
        let tenant = shop.tenant;
        async move {
            let results = index
                .search(tenant, &SearchQuery::text(text))
                .await
                .unwrap();
            title_set(&results)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search("bergamot ").await,
        [EARL_GREY],
        "tags and description"
    );
    assert_eq!(
        search("kettle ").await,
        [CHAMOMILE, PEPPERMINT],
        "vendor name"
    );
    assert_eq!(search("morocco ").await, [PEPPERMINT], "attribute value");
    assert_eq!(search("lavender ").await, [SLEEP_BLEND], "description");
    assert_eq!(search("teaware ").await, [TEAPOT], "tag");
    assert_eq!(
        search("infusions ").await,
        [PEPPERMINT],
        "stems: infusions ~ infusion"
    );
}

#[tokio::test]
async fn the_word_being_typed_matches_as_a_prefix() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("pepperm"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [PEPPERMINT]);
    let results = index
        .search(shop.tenant, &SearchQuery::text("herbal pepp"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [PEPPERMINT]);
}

#[tokio::test]
async fn a_title_match_ranks_above_a_description_match() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("coffee"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [COFFEE, TEAPOT]);
    assert!(results.hits[0].score > results.hits[1].score);
    assert!(results.hits.iter().all(|hit| hit.score.is_some()));

    let results = index
        .search(shop.tenant, &SearchQuery::text("chamomile"))
        .await
        .unwrap();
    assert_eq!(results.total, 2);
    let results = index
        .search(shop.tenant, &SearchQuery::text("chamomile tea"))
        .await
        .unwrap();
    assert_eq!(
        titles(&results)[0],
        CHAMOMILE,
        "both words in the title beat one in the title and one in the description"
    );
}

#[tokio::test]
async fn exact_spelling_outranks_a_typo_match() {
    let shop = TeaShop::new();
    let mut docs = shop.products.clone();
    let mut camomile = crate::support::doc(shop.tenant, "Camomile Tea Bags");
    camomile.created_at = shop.products[0].created_at;
    docs.push(camomile);
    let index = crate::support::index_with(docs).await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("camomile"))
        .await
        .unwrap();
    assert_eq!(titles(&results)[0], "Camomile Tea Bags");
    assert_eq!(
        results.total, 3,
        "the chamomile products still match by typo"
    );
}

#[tokio::test]
async fn when_no_product_has_every_word_all_but_one_will_do() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("chamomile spaceship"))
        .await
        .unwrap();
    assert_eq!(title_set(&results), [SLEEP_BLEND, CHAMOMILE]);
    let results = index
        .search(shop.tenant, &SearchQuery::text("spaceship"))
        .await
        .unwrap();
    assert_eq!(results.total, 0, "a single unknown word finds nothing");
    assert!(results.hits.is_empty());
}

#[tokio::test]
async fn stop_words_do_not_have_to_match() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("tea for the kettle"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [CHAMOMILE]);
}

#[tokio::test]
async fn browsing_sorts_by_price_or_newest() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let sorted = |sort| SearchQuery {
        sort,
        ..SearchQuery::default()
    };
    let by_price = [
        PEPPERMINT,
        CHAMOMILE,
        EARL_GREY,
        SLEEP_BLEND,
        COFFEE,
        TEAPOT,
    ];

    let results = index
        .search(shop.tenant, &sorted(Sort::PriceAsc))
        .await
        .unwrap();
    assert_eq!(titles(&results), by_price);
    assert!(results.hits.iter().all(|hit| hit.score.is_none()));

    let results = index
        .search(shop.tenant, &sorted(Sort::PriceDesc))
        .await
        .unwrap();
    let mut descending = by_price;
    descending.reverse();
    assert_eq!(titles(&results), descending);

    let newest = [
        SLEEP_BLEND,
        TEAPOT,
        COFFEE,
        EARL_GREY,
        PEPPERMINT,
        CHAMOMILE,
    ];
    let results = index
        .search(shop.tenant, &sorted(Sort::Newest))
        .await
        .unwrap();
    assert_eq!(titles(&results), newest);
    let results = index
        .search(shop.tenant, &sorted(Sort::Relevance))
        .await
        .unwrap();
    assert_eq!(
        titles(&results),
        newest,
        "relevance without words is newest"
    );
}

#[tokio::test]
async fn a_text_search_can_be_sorted_by_price() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                sort: Sort::PriceDesc,
                ..SearchQuery::text("herbal")
            },
        )
        .await
        .unwrap();
    assert_eq!(titles(&results), [SLEEP_BLEND, CHAMOMILE, PEPPERMINT]);
}

#[tokio::test]
async fn pages_follow_the_order_and_keep_the_total() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let page = |offset| SearchQuery {
        sort: Sort::PriceAsc,
        limit: 2,
        offset,
        ..SearchQuery::default()
    };
    let mut seen = Vec::new();
    for offset in [0, 2, 4, 6] {
        let results = index.search(shop.tenant, &page(offset)).await.unwrap();
        assert_eq!(results.total, 6);
        seen.extend(titles(&results).into_iter().map(str::to_owned));
    }
    assert_eq!(
        seen,
        [
            PEPPERMINT,
            CHAMOMILE,
            EARL_GREY,
            SLEEP_BLEND,
            COFFEE,
            TEAPOT
        ]
    );
}

#[tokio::test]
async fn hits_carry_the_product_id_and_slug() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let results = index
        .search(shop.tenant, &SearchQuery::text("teapot"))
        .await
        .unwrap();
    let teapot = shop.product(TEAPOT);
    assert_eq!(results.hits.len(), 1);
    assert_eq!(results.hits[0].product_id, teapot.product_id);
    assert_eq!(results.hits[0].slug, teapot.slug);
}

#[tokio::test]
async fn an_invalid_query_is_refused_with_the_field_named() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let error = index
        .search(
            shop.tenant,
            &SearchQuery {
                limit: 1_000,
                ..SearchQuery::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, SearchError::InvalidQuery { field: "limit", .. }),
        "{error:?}"
    );
    let problem = error.into_problem();
    assert_eq!(problem.status.as_u16(), 422);
    assert_eq!(problem.errors[0].field, "limit");
}

#[tokio::test]
async fn odd_text_is_harmless() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    for text in [
        "",
        "   ",
        "\"",
        "tea AND (coffee OR",
        "*",
        "🍵",
        "t",
        "x\u{0}y",
        "ÉARL grey",
    ] {
        let results = index
            .search(shop.tenant, &SearchQuery::text(text))
            .await
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(results.total <= 6, "{text:?}");
    }
    let results = index
        .search(shop.tenant, &SearchQuery::text("ÉARL grey"))
        .await
        .unwrap();
    assert_eq!(titles(&results), [EARL_GREY], "accents fold");
}
