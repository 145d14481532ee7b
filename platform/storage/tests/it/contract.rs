//! The storage contract, the same on every backend: what is put is what is read back, with
//! its content type, until it is deleted; one shop's objects never reach another's.

use crate::on_every_backend;
use crate::support::{Fixture, PDF, PNG};
use mercato_storage::{KeyError, MediaType, ObjectKey, Owner, StorageError};
use mercato_tenant_context::{TenantId, VendorId};

on_every_backend!(
    an_object_round_trips_until_deleted,
    a_missing_object_is_not_found,
    a_put_replaces_the_object,
    empty_and_larger_objects_round_trip,
    shops_with_the_same_names_do_not_collide,
    an_invalid_content_type_stores_nothing,
    ensuring_the_bucket_twice_is_harmless,
    usage_counts_one_shop_and_the_quota_holds,
);

async fn usage_counts_one_shop_and_the_quota_holds(f: Fixture) {
    let storage = f.storage().await;
    let (shop, other) = (TenantId::new(), TenantId::new());
    assert_eq!(storage.usage(shop).await.unwrap(), 0);
    let half_mb = vec![7u8; 512 * 1024];
    for (tenant, owner) in [
        (shop, Owner::Vendor(VendorId::new())),
        (shop, Owner::Shop),
        (other, Owner::Shop),
    ] {
        let key = ObjectKey::unique(tenant, owner, "media", Some("pdf")).unwrap();
        storage
            .put(&key, half_mb.clone(), "application/pdf")
            .await
            .unwrap();
    }
    // Both of this shop's objects count, under every vendor; the other shop's do not.
    assert_eq!(storage.usage(shop).await.unwrap(), 1024 * 1024);
    assert_eq!(storage.usage(other).await.unwrap(), 512 * 1024);
    // By area: what one service's files take.
    let products = ObjectKey::unique(shop, Owner::Shop, "products", Some("pdf")).unwrap();
    storage
        .put(&products, vec![1u8; 1000], "application/pdf")
        .await
        .unwrap();
    assert_eq!(
        storage.usage_of_areas(shop, &["products"]).await.unwrap(),
        1000
    );
    assert_eq!(
        storage
            .usage_of_areas(shop, &["media", "products"])
            .await
            .unwrap(),
        1024 * 1024 + 1000
    );
    assert_eq!(
        storage.usage_of_areas(other, &["products"]).await.unwrap(),
        0
    );
}

async fn an_object_round_trips_until_deleted(f: Fixture) {
    let storage = f.storage().await;
    let vendor = Owner::Vendor(VendorId::new());
    let key = ObjectKey::unique(
        TenantId::new(),
        vendor,
        "products",
        Some(MediaType::Png.extension()),
    )
    .unwrap();
    assert!(!storage.exists(&key).await.unwrap());

    storage.put(&key, PNG, MediaType::Png.mime()).await.unwrap();
    let object = storage.get(&key).await.unwrap();
    assert_eq!(object.bytes.as_ref(), PNG);
    assert_eq!(object.content_type, "image/png");
    let info = storage.head(&key).await.unwrap();
    assert_eq!(info.size, PNG.len() as u64);
    assert_eq!(info.content_type, "image/png");
    assert!(storage.exists(&key).await.unwrap());

    storage.delete(&key).await.unwrap();
    assert!(!storage.exists(&key).await.unwrap());
    assert!(matches!(
        storage.get(&key).await,
        Err(StorageError::NotFound { .. })
    ));
    storage
        .delete(&key)
        .await
        .expect("deleting what is not there is not an error");
}

async fn a_missing_object_is_not_found(f: Fixture) {
    let storage = f.storage().await;
    let key = ObjectKey::new(TenantId::new(), Owner::Shop, "reports", "nothing.pdf").unwrap();
    let error = storage.get(&key).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error:?}");
    assert_eq!(error.into_problem().status.as_u16(), 404);
    assert!(matches!(
        storage.head(&key).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(!storage.exists(&key).await.unwrap());
}

async fn a_put_replaces_the_object(f: Fixture) {
    let storage = f.storage().await;
    let key = ObjectKey::new(TenantId::new(), Owner::Shop, "media", "logo").unwrap();
    storage.put(&key, PNG, "image/png").await.unwrap();
    storage.put(&key, PDF, "application/pdf").await.unwrap();
    let object = storage.get(&key).await.unwrap();
    assert_eq!(object.bytes.as_ref(), PDF);
    assert_eq!(object.content_type, "application/pdf");
    assert_eq!(storage.head(&key).await.unwrap().size, PDF.len() as u64);
    storage.delete(&key).await.unwrap();
}

async fn empty_and_larger_objects_round_trip(f: Fixture) {
    let storage = f.storage().await;
    let tenant = TenantId::new();
    let empty = ObjectKey::new(tenant, Owner::Shop, "exports", "empty.csv").unwrap();
    storage.put(&empty, Vec::new(), "text/csv").await.unwrap();
    let object = storage.get(&empty).await.unwrap();
    assert!(object.bytes.is_empty());
    assert_eq!(object.content_type, "text/csv");
    assert_eq!(storage.head(&empty).await.unwrap().size, 0);

    let large: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let key = ObjectKey::new(tenant, Owner::Shop, "exports", "large.bin").unwrap();
    storage
        .put(&key, large.clone(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(storage.get(&key).await.unwrap().bytes.as_ref(), large);
    storage.delete(&key).await.unwrap();
    storage.delete(&empty).await.unwrap();
}

async fn shops_with_the_same_names_do_not_collide(f: Fixture) {
    let storage = f.storage().await;
    let (a, b) = (TenantId::new(), TenantId::new());
    let key_a = ObjectKey::new(a, Owner::Shop, "media", "logo.png").unwrap();
    let key_b = ObjectKey::new(b, Owner::Shop, "media", "logo.png").unwrap();
    assert_ne!(key_a, key_b);
    storage.put(&key_a, PNG, "image/png").await.unwrap();
    storage.put(&key_b, PDF, "application/pdf").await.unwrap();
    assert_eq!(storage.get(&key_a).await.unwrap().bytes.as_ref(), PNG);
    assert_eq!(storage.get(&key_b).await.unwrap().bytes.as_ref(), PDF);

    // A key stored by shop A, read back in shop B's name, is refused before any lookup.
    assert_eq!(
        ObjectKey::parse(b, key_a.as_str()),
        Err(KeyError::OtherTenant)
    );
    assert_eq!(ObjectKey::parse(a, key_a.as_str()), Ok(key_a.clone()));

    storage.delete(&key_a).await.unwrap();
    assert!(
        storage.exists(&key_b).await.unwrap(),
        "deleting A's object leaves B's"
    );
    storage.delete(&key_b).await.unwrap();
}

async fn an_invalid_content_type_stores_nothing(f: Fixture) {
    let storage = f.storage().await;
    let key = ObjectKey::new(TenantId::new(), Owner::Shop, "media", "x").unwrap();
    for content_type in ["", "image/png\r\nx-injected: 1"] {
        assert!(matches!(
            storage.put(&key, PNG, content_type).await,
            Err(StorageError::InvalidContentType { .. })
        ));
    }
    assert!(!storage.exists(&key).await.unwrap());
}

async fn ensuring_the_bucket_twice_is_harmless(f: Fixture) {
    let storage = f.storage().await;
    storage.ensure_bucket().await.unwrap();
    storage.ensure_bucket().await.unwrap();
    let key = ObjectKey::unique(TenantId::new(), Owner::Shop, "media", None).unwrap();
    storage.put(&key, PNG, "image/png").await.unwrap();
    assert!(storage.exists(&key).await.unwrap());
    storage.delete(&key).await.unwrap();
}
