//! The plan's storage limit as a running total per shop (ADR 0030): concurrent uploads
//! cannot pass it together, removing an image or a product gives its bytes back, one shop's
//! files never count against another's, and every vendor of a shop shares the shop's limit.

use crate::on_every_backend;
use crate::support::{Caller, Reply, Service};
use mercato_catalog::http::media::STORAGE_AREAS;
use mercato_storage::quota;
use mercato_tenant_context::{TenantId, VendorId};
use serde_json::json;

/// A PNG padded to 300 KiB: three fit in a 1 MB plan, a fourth does not.
fn image() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82".to_vec();
    bytes.resize(IMAGE, 0);
    bytes
}
const IMAGE: usize = 300 * 1024;

/// Vendor staff of a new approved vendor of `tenant`, on a 1 MB plan.
async fn staff(service: &Service, tenant: TenantId) -> (VendorId, Caller) {
    let vendor = service.approved_vendor(tenant).await;
    let mut staff = Caller::vendor_staff(tenant, vendor);
    staff.storage_mb = 1;
    (vendor, staff)
}

async fn product(service: &Service, staff: &Caller, vendor: VendorId) -> String {
    let slug = format!("p-{}", uuid::Uuid::now_v7().simple());
    let created = service
        .json(
            staff,
            "POST",
            "/api/v1/catalog/products",
            json!({
                "vendor_id": vendor, "slug": slug, "title": "Tea Bowl", "option_types": ["size"],
                "variants": [{ "sku": slug, "options": { "size": "M" },
                    "price": { "amount": 4500, "currency": "EUR" } }],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.str("id")
}

async fn upload(service: &Service, staff: &Caller, product: &str) -> Reply {
    let path = format!("/api/v1/catalog/products/{product}/media");
    let body = Some(("application/octet-stream", image()));
    service.send(staff, "POST", &path, body).await
}

async fn used(service: &Service, tenant: TenantId) -> u64 {
    let tx = service.state.db.tenant_read(tenant).await.unwrap();
    quota::used(&tx).await.unwrap()
}

async fn stored(service: &Service, tenant: TenantId) -> u64 {
    service
        .state
        .storage
        .usage_of_areas(tenant, STORAGE_AREAS)
        .await
        .unwrap()
}

async fn concurrent_uploads_cannot_pass_the_limit(service: Service) {
    let shop = TenantId::new();
    let (vendor, staff) = staff(&service, shop).await;
    let bowl = product(&service, &staff, vendor).await;
    let replies = futures::future::join_all((0..6).map(|_| upload(&service, &staff, &bowl))).await;
    let accepted = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(accepted, 3, "{replies:?}");
    for refused in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(refused.status, 402, "{:?}", refused.body);
        assert_eq!(refused.str("code"), "plan_limit_exceeded");
    }
    // The refused uploads left nothing behind; the total is what is stored.
    assert_eq!(used(&service, shop).await, 3 * IMAGE as u64);
    assert_eq!(stored(&service, shop).await, 3 * IMAGE as u64);
    let shown = service
        .get(&staff, &format!("/api/v1/catalog/products/{bowl}"))
        .await;
    assert_eq!(shown.body["media"].as_array().map(Vec::len), Some(3));
}

async fn removing_files_frees_their_space(service: Service) {
    let shop = TenantId::new();
    let (vendor, staff) = staff(&service, shop).await;
    let bowl = product(&service, &staff, vendor).await;
    let mut replies = Vec::new();
    for _ in 0..3 {
        let reply = upload(&service, &staff, &bowl).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        replies.push(reply);
    }
    let last = replies.pop().unwrap();
    assert_eq!(upload(&service, &staff, &bowl).await.status, 402);
    // One image removed: room for one more.
    let image = last.body["media"][0]["id"].as_str().unwrap().to_owned();
    let removed = service
        .send(
            &staff,
            "DELETE",
            &format!("/api/v1/catalog/products/{bowl}/media/{image}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(used(&service, shop).await, 2 * IMAGE as u64);
    assert_eq!(upload(&service, &staff, &bowl).await.status, 201);
    // The product removed: all of its images.
    let deleted = service
        .send(
            &staff,
            "DELETE",
            &format!("/api/v1/catalog/products/{bowl}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_eq!(used(&service, shop).await, 0);
    assert_eq!(stored(&service, shop).await, 0);
    let cup = product(&service, &staff, vendor).await;
    assert_eq!(upload(&service, &staff, &cup).await.status, 201);
    // A total that drifted is counted again from the objects once its row is gone.
    {
        use sea_orm::ConnectionTrait as _;
        let tx = service.state.db.tenant_tx(shop).await.unwrap();
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            tx.get_database_backend(),
            "DELETE FROM storage_usage WHERE tenant_id = $1",
            [shop.as_uuid().into()],
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(upload(&service, &staff, &cup).await.status, 201);
    assert_eq!(used(&service, shop).await, 2 * IMAGE as u64);
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    let counted = quota::recompute(&tx, &service.state.storage, STORAGE_AREAS)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counted, 2 * IMAGE as u64);
}

async fn shops_and_vendors_share_only_their_own_shops_limit(service: Service) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let (first, first_staff) = staff(&service, shop).await;
    let (second, second_staff) = staff(&service, shop).await;
    let bowl = product(&service, &first_staff, first).await;
    let mut replies = Vec::new();
    for _ in 0..3 {
        let reply = upload(&service, &first_staff, &bowl).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        replies.push(reply);
    }
    let last = replies.pop().unwrap();
    // The shop is full for every vendor of it...
    let cup = product(&service, &second_staff, second).await;
    let refused = upload(&service, &second_staff, &cup).await;
    assert_eq!(refused.status, 402, "{:?}", refused.body);
    assert_eq!(refused.str("code"), "plan_limit_exceeded");
    // ...and for no other shop.
    let (theirs, their_staff) = staff(&service, other).await;
    let plate = product(&service, &their_staff, theirs).await;
    for _ in 0..3 {
        assert_eq!(upload(&service, &their_staff, &plate).await.status, 201);
    }
    assert_eq!(used(&service, other).await, 3 * IMAGE as u64);
    assert_eq!(used(&service, shop).await, 3 * IMAGE as u64);
    // The first vendor's removal makes room for the second.
    let image = last.body["media"][0]["id"].as_str().unwrap().to_owned();
    let removed = service
        .send(
            &first_staff,
            "DELETE",
            &format!("/api/v1/catalog/products/{bowl}/media/{image}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(upload(&service, &second_staff, &cup).await.status, 201);
    assert_eq!(used(&service, other).await, 3 * IMAGE as u64);
}

on_every_backend!(
    concurrent_uploads_cannot_pass_the_limit,
    removing_files_frees_their_space,
    shops_and_vendors_share_only_their_own_shops_limit,
);
