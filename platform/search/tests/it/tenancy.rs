//! One shop never sees another's documents: not in hits, totals, facets, suggestions or
//! counts, and deleting one shop's documents leaves the others'.

use crate::support::{CHAMOMILE, TeaShop, doc, index, title_set};
use mercato_search::{Filters, SearchQuery};
use mercato_tenant_context::TenantId;

/// Shop A and shop B hold identical documents (the same product ids too); B also has one
/// product of its own.
async fn two_shops() -> (
    TeaShop,
    TenantId,
    std::sync::Arc<dyn mercato_search::SearchIndex>,
) {
    let shop = TeaShop::new();
    let other = TenantId::new();
    let index = index();
    index.upsert(shop.products.clone()).await.unwrap();
    let mut b_docs = shop.copied_to(other);
    b_docs.push(doc(other, "Chamomile Bliss Only In B"));
    index.upsert(b_docs).await.unwrap();
    index.commit().await.unwrap();
    (shop, other, index)
}

#[tokio::test]
async fn each_shop_sees_only_its_own_documents() {
    let (shop, other, index) = two_shops().await;

    let a = index
        .search(shop.tenant, &SearchQuery::text("chamomile"))
        .await
        .unwrap();
    let b = index
        .search(other, &SearchQuery::text("chamomile"))
        .await
        .unwrap();
    assert_eq!(a.total, 2);
    assert_eq!(b.total, 3);
    assert!(!title_set(&a).contains(&"Chamomile Bliss Only In B"));
    assert!(title_set(&b).contains(&"Chamomile Bliss Only In B"));

    let browse_a = index
        .search(shop.tenant, &SearchQuery::default())
        .await
        .unwrap();
    assert_eq!(browse_a.total, 6);
    assert_eq!(
        browse_a.facets.in_stock.in_stock, 5,
        "facets count shop A only"
    );
    assert_eq!(browse_a.facets.categories[0].count, 5);
    let browse_b = index.search(other, &SearchQuery::default()).await.unwrap();
    assert_eq!(browse_b.total, 7);

    assert_eq!(index.count(shop.tenant).await.unwrap(), 6);
    assert_eq!(index.count(other).await.unwrap(), 7);
    assert_eq!(
        index
            .suggest(shop.tenant, "chamomile bli", 10)
            .await
            .unwrap(),
        Vec::<String>::new(),
        "suggestions come from the shop's own titles"
    );
    assert_eq!(
        index.suggest(other, "chamomile bli", 10).await.unwrap(),
        ["Chamomile Bliss Only In B"]
    );
}

#[tokio::test]
async fn a_shop_without_documents_finds_nothing() {
    let (_, _, index) = two_shops().await;
    let stranger = TenantId::new();
    let results = index
        .search(stranger, &SearchQuery::default())
        .await
        .unwrap();
    assert_eq!(results.total, 0);
    assert!(results.hits.is_empty());
    assert!(results.facets.categories.is_empty() && results.facets.vendors.is_empty());
    assert!(results.facets.price_buckets.iter().all(|b| b.count == 0));
    assert!(index.suggest(stranger, "cham", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn filtering_on_another_shops_ids_finds_nothing() {
    let (shop, other, index) = two_shops().await;
    // The ids are the same in both shops here; a shop B query for shop A's category still
    // only returns shop B's products.
    let results = index
        .search(
            other,
            &SearchQuery::browse(Filters {
                categories: vec![shop.herbal],
                ..Filters::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(results.total, 3);
    let a_products: Vec<_> = shop.products.iter().map(|p| p.product_id).collect();
    assert!(
        results
            .hits
            .iter()
            .all(|hit| a_products.contains(&hit.product_id))
    );
    let stranger = TenantId::new();
    let results = index
        .search(
            stranger,
            &SearchQuery::browse(Filters {
                vendors: vec![shop.tea_masters],
                ..Filters::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(results.total, 0);
}

#[tokio::test]
async fn deleting_a_product_touches_only_its_shop() {
    let (shop, other, index) = two_shops().await;
    let chamomile = shop.product(CHAMOMILE).product_id;
    index.delete(shop.tenant, &[chamomile]).await.unwrap();
    index.commit().await.unwrap();
    assert_eq!(index.count(shop.tenant).await.unwrap(), 5);
    assert_eq!(
        index.count(other).await.unwrap(),
        7,
        "shop B's copy with the same product id stays"
    );
    let b = index
        .search(other, &SearchQuery::text("organic chamomile"))
        .await
        .unwrap();
    assert_eq!(b.hits[0].product_id, chamomile);
}

#[tokio::test]
async fn delete_tenant_removes_one_shop_only() {
    let (shop, other, index) = two_shops().await;
    index.delete_tenant(shop.tenant).await.unwrap();
    index.commit().await.unwrap();

    assert_eq!(index.count(shop.tenant).await.unwrap(), 0);
    let a = index
        .search(shop.tenant, &SearchQuery::text("chamomile"))
        .await
        .unwrap();
    assert_eq!(a.total, 0);
    assert_eq!(index.count(other).await.unwrap(), 7);
    let b = index
        .search(other, &SearchQuery::text("chamomile"))
        .await
        .unwrap();
    assert_eq!(b.total, 3);

    // The shop can be indexed again afterwards (a full reindex).
    index.upsert(shop.products.clone()).await.unwrap();
    index.commit().await.unwrap();
    assert_eq!(index.count(shop.tenant).await.unwrap(), 6);
}
