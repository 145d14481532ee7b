//! Writes: replacement, deletion, all-or-nothing batches, when changes become visible, and
//! the index on disk.

use crate::support::{TeaShop, doc, index, titles};
use mercato_search::{
    EmbeddedIndex, EmbeddedOptions, ProductDocument, SearchConfig, SearchError, SearchIndex,
    SearchQuery, open,
};
use mercato_tenant_context::{ProductId, TenantId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options whose timer never commits during a test: only `commit` (or `max_pending`) does.
fn manual_commits() -> EmbeddedOptions {
    EmbeddedOptions {
        commit_interval: Duration::from_secs(3_600),
        ..EmbeddedOptions::for_tests()
    }
}

async fn count_soon(index: &dyn SearchIndex, tenant: TenantId, expected: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count = index.count(tenant).await.unwrap();
        if count == expected || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_upsert_replaces_the_document() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let mut chamomile = shop.products[0].clone();
    chamomile.title = "Organic Chamomile Flowers".into();
    chamomile.price_min = 5_000;
    chamomile.price_max = 5_000;
    index.upsert(vec![chamomile.clone()]).await.unwrap();
    index.commit().await.unwrap();

    assert_eq!(
        index.count(shop.tenant).await.unwrap(),
        6,
        "replaced, not added"
    );
    let results = index
        .search(shop.tenant, &SearchQuery::text("flowers organic"))
        .await
        .unwrap();
    assert_eq!(titles(&results), ["Organic Chamomile Flowers"]);
    assert_eq!(results.hits[0].product_id, chamomile.product_id);
    let results = index
        .search(shop.tenant, &SearchQuery::text("organic chamomile tea"))
        .await
        .unwrap();
    assert!(
        !titles(&results).contains(&"Organic Chamomile Tea"),
        "the old title is gone"
    );
    let browse = index
        .search(shop.tenant, &SearchQuery::default())
        .await
        .unwrap();
    let bucket = |from| {
        browse
            .facets
            .price_buckets
            .iter()
            .find(|bucket| bucket.from == Some(from))
            .unwrap()
            .count
    };
    assert_eq!(bucket(5_000), 1, "facets see the new price (50.00)");
    assert_eq!(bucket(2_500), 1, "only the teapot is left in 25.00..50.00");
}

#[tokio::test]
async fn the_same_document_twice_in_one_batch_is_kept_once() {
    let tenant = TenantId::new();
    let index = index();
    let first = doc(tenant, "Jasmine Pearls");
    let second = ProductDocument {
        title: "Jasmine Dragon Pearls".into(),
        ..first.clone()
    };
    index.upsert(vec![first, second]).await.unwrap();
    index.commit().await.unwrap();
    assert_eq!(index.count(tenant).await.unwrap(), 1);
    let results = index
        .search(tenant, &SearchQuery::text("jasmine"))
        .await
        .unwrap();
    assert_eq!(
        titles(&results),
        ["Jasmine Dragon Pearls"],
        "the last one wins"
    );
}

#[tokio::test]
async fn deleted_products_disappear() {
    let shop = TeaShop::new();
    let index = shop.index().await;
    let peppermint = shop.products[1].product_id;
    index
        .delete(shop.tenant, &[peppermint, ProductId::new()])
        .await
        .unwrap();
    index.delete(shop.tenant, &[]).await.unwrap();
    index.commit().await.unwrap();

    assert_eq!(index.count(shop.tenant).await.unwrap(), 5);
    let results = index
        .search(shop.tenant, &SearchQuery::text("peppermint"))
        .await
        .unwrap();
    assert_eq!(results.total, 0);
    assert!(
        index
            .suggest(shop.tenant, "pepp", 5)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn one_invalid_document_rejects_the_whole_batch() {
    let tenant = TenantId::new();
    let index = index();
    let good = doc(tenant, "Sencha");
    let mut bad = doc(tenant, "Matcha");
    bad.price_min = -5;
    let error = index.upsert(vec![good, bad.clone()]).await.unwrap_err();
    assert!(
        matches!(error, SearchError::InvalidDocument { product_id, .. } if product_id == bad.product_id),
        "{error:?}"
    );
    index.commit().await.unwrap();
    assert_eq!(index.count(tenant).await.unwrap(), 0);
}

#[tokio::test]
async fn changes_become_visible_on_commit() {
    let tenant = TenantId::new();
    let index: Arc<dyn SearchIndex> = Arc::new(EmbeddedIndex::in_memory(manual_commits()).unwrap());
    index.upsert(vec![doc(tenant, "Rooibos")]).await.unwrap();
    let before = index
        .search(tenant, &SearchQuery::text("rooibos"))
        .await
        .unwrap();
    assert_eq!(before.total, 0, "not searchable before the commit");

    index.commit().await.unwrap();
    let after = index
        .search(tenant, &SearchQuery::text("rooibos"))
        .await
        .unwrap();
    assert_eq!(titles(&after), ["Rooibos"]);
    index.commit().await.unwrap(); // nothing pending is fine
}

#[tokio::test]
async fn changes_become_visible_without_a_commit_call() {
    let tenant = TenantId::new();
    let index: Arc<dyn SearchIndex> = Arc::new(
        EmbeddedIndex::in_memory(EmbeddedOptions {
            commit_interval: Duration::from_millis(100),
            ..EmbeddedOptions::for_tests()
        })
        .unwrap(),
    );
    index.upsert(vec![doc(tenant, "Oolong")]).await.unwrap();
    assert_eq!(
        count_soon(index.as_ref(), tenant, 1).await,
        1,
        "the writer commits on its own within its interval"
    );
}

#[tokio::test]
async fn many_pending_changes_commit_early() {
    let tenant = TenantId::new();
    let index: Arc<dyn SearchIndex> = Arc::new(
        EmbeddedIndex::in_memory(EmbeddedOptions {
            max_pending: 20,
            ..manual_commits()
        })
        .unwrap(),
    );
    let docs = (0..10).map(|i| doc(tenant, &format!("Tea {i}"))).collect();
    index.upsert(docs).await.unwrap();
    assert_eq!(count_soon(index.as_ref(), tenant, 10).await, 10);
}

#[tokio::test]
async fn concurrent_writers_lose_nothing() {
    let tenant = TenantId::new();
    let index = index();
    let mut writers = Vec::new();
    for writer in 0..8 {
        let index = index.clone();
        writers.push(tokio::spawn(async move {
            for batch in 0..5 {
                let docs = (0..10)
                    .map(|i| doc(tenant, &format!("Blend {writer}-{batch}-{i}")))
                    .collect();
                index.upsert(docs).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    index.commit().await.unwrap();
    assert_eq!(index.count(tenant).await.unwrap(), 400);
}

#[tokio::test]
async fn the_index_on_disk_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let shop = TeaShop::new();
    {
        let index = open(&SearchConfig::default(), dir.path()).unwrap();
        assert_eq!(index.backend_name(), "embedded");
        index.prepare().await.unwrap();
        index.ping().await.unwrap();
        index.upsert(shop.products.clone()).await.unwrap();
        index.commit().await.unwrap();
    }
    assert!(dir.path().join("search").join("products-v1").is_dir());

    let index = open(&SearchConfig::default(), dir.path()).unwrap();
    assert_eq!(index.count(shop.tenant).await.unwrap(), 6);
    let results = index
        .search(shop.tenant, &SearchQuery::text("chamomille"))
        .await
        .unwrap();
    assert_eq!(
        results.total, 2,
        "the analyzers are registered again on open"
    );
}

#[tokio::test]
async fn dropping_the_index_commits_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    {
        let index = EmbeddedIndex::open_in_dir(dir.path(), manual_commits()).unwrap();
        index.upsert(vec![doc(tenant, "Genmaicha")]).await.unwrap();
    }
    let index = EmbeddedIndex::open_in_dir(dir.path(), manual_commits()).unwrap();
    assert_eq!(index.count(tenant).await.unwrap(), 1);
}

#[tokio::test]
async fn a_second_writer_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = EmbeddedIndex::open_in_dir(dir.path(), manual_commits()).unwrap();
    let second = EmbeddedIndex::open_in_dir(dir.path(), manual_commits());
    assert!(
        matches!(second, Err(SearchError::Engine { .. })),
        "{second:?}"
    );
}

#[tokio::test]
async fn a_shop_reindex_swaps_the_old_set_for_the_new_at_once() {
    let shop = TeaShop::new();
    let other = TeaShop::new();
    let index: Arc<dyn SearchIndex> = Arc::new(EmbeddedIndex::in_memory(manual_commits()).unwrap());
    index.upsert(shop.products.clone()).await.unwrap();
    index.upsert(other.products.clone()).await.unwrap();
    index.commit().await.unwrap();

    let mut kept = shop.products[0].clone();
    kept.title = "Organic Chamomile Tea, Reformulated".into();
    let new = doc(shop.tenant, "Genmaicha Brown Rice Tea");
    index
        .replace_tenant(shop.tenant, vec![kept.clone(), new.clone(), new.clone()])
        .await
        .unwrap();
    assert_eq!(
        index.count(shop.tenant).await.unwrap(),
        6,
        "until the commit, searches see the old set"
    );
    index.commit().await.unwrap();

    assert_eq!(
        index.count(shop.tenant).await.unwrap(),
        2,
        "the new set, once each"
    );
    let results = index
        .search(shop.tenant, &SearchQuery::text("reformulated"))
        .await
        .unwrap();
    assert_eq!(results.hits[0].product_id, kept.product_id);
    assert_eq!(
        index
            .search(shop.tenant, &SearchQuery::text("peppermint"))
            .await
            .unwrap()
            .total,
        0,
        "products not re-sent are gone"
    );
    assert_eq!(
        index.count(other.tenant).await.unwrap(),
        6,
        "other shops untouched"
    );

    let stray = doc(other.tenant, "Not Yours");
    let error = index
        .replace_tenant(shop.tenant, vec![new, stray])
        .await
        .unwrap_err();
    assert!(
        matches!(error, SearchError::InvalidDocument { .. }),
        "{error:?}"
    );
    index.commit().await.unwrap();
    assert_eq!(
        index.count(shop.tenant).await.unwrap(),
        2,
        "nothing was written"
    );

    index.replace_tenant(shop.tenant, Vec::new()).await.unwrap();
    index.commit().await.unwrap();
    assert_eq!(index.count(shop.tenant).await.unwrap(), 0);
}
