//! Autocomplete: titles for what was typed so far.

use crate::support::{CHAMOMILE, PEPPERMINT, SLEEP_BLEND, TeaShop, doc, index_with};
use mercato_search::SearchError;

#[tokio::test]
async fn titles_with_a_word_starting_with_the_prefix() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    assert_eq!(
        index.suggest(shop.tenant, "cham", 10).await.unwrap(),
        [SLEEP_BLEND, CHAMOMILE],
        "a title starting with the prefix comes first"
    );
    assert_eq!(
        index.suggest(shop.tenant, "Pe", 10).await.unwrap(),
        [PEPPERMINT]
    );
    assert_eq!(
        index
            .suggest(shop.tenant, "organic cham", 10)
            .await
            .unwrap(),
        [CHAMOMILE]
    );
    assert_eq!(
        index.suggest(shop.tenant, "orgnic cham", 10).await.unwrap(),
        [CHAMOMILE],
        "earlier words may have a typo"
    );
    assert!(
        index
            .suggest(shop.tenant, "zz", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(index.suggest(shop.tenant, "", 10).await.unwrap().is_empty());
    assert!(
        index
            .suggest(shop.tenant, " ,", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn suggestions_are_distinct_and_limited() {
    let shop = TeaShop::new();
    let mut docs = Vec::new();
    for i in 0..30 {
        docs.push(doc(shop.tenant, &format!("Green Tea No. {i:02}")));
        docs.push(doc(shop.tenant, "Green Tea"));
    }
    let index = index_with(docs).await;
    let suggestions = index.suggest(shop.tenant, "green t", 5).await.unwrap();
    assert_eq!(suggestions.len(), 5);
    assert_eq!(suggestions[0], "Green Tea", "shortest first, once");
    assert_eq!(
        suggestions
            .iter()
            .filter(|s| s.as_str() == "Green Tea")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_bad_limit_or_prefix_is_refused() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    for (prefix, limit) in [("cha", 0), ("cha", 21), (&*"x".repeat(101), 5)] {
        assert!(matches!(
            index.suggest(shop.tenant, prefix, limit).await,
            Err(SearchError::InvalidQuery { .. })
        ));
    }
}
