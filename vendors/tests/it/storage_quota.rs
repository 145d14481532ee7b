//! Store images count against the plan's storage limit through vendors' running total per
//! shop (ADR 0030): every vendor of a shop shares the shop's limit, concurrent uploads cannot
//! pass it together, a removed or replaced image gives its bytes back, and another shop's
//! files never count.

use crate::on_every_backend;
use crate::support::{Caller, Reply, Service};
use mercato_storage::quota;
use mercato_tenant_context::{TenantId, VendorId};
use mercato_vendors::http::images::STORAGE_AREAS;

const IMAGE: usize = 300 * 1024;

/// A PNG padded to 300 KiB: three fit in a 1 MB plan, a fourth does not.
fn image() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82".to_vec();
    bytes.resize(IMAGE, 0);
    bytes
}

/// A vendor of `shop` and its owner, on a 1 MB plan.
async fn vendor(service: &Service, shop: TenantId, name: &str) -> (VendorId, Caller) {
    let mut owner = Caller::customer(shop);
    owner.storage_mb = 1;
    let vendor = service.apply(&owner, name).await;
    (vendor, owner)
}

async fn put_image(service: &Service, owner: &Caller, vendor: VendorId, slot: &str) -> Reply {
    let path = format!("/api/v1/vendors/{vendor}/images/{slot}");
    let body = Some(("application/octet-stream", image()));
    service.send(owner, "PUT", &path, body).await
}

async fn used(service: &Service, shop: TenantId) -> u64 {
    let tx = service.state.db.tenant_read(shop).await.unwrap();
    quota::used(&tx).await.unwrap()
}

async fn vendors_share_their_shops_limit_and_no_other(service: Service) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let mut vendors = Vec::new();
    for name in [
        "Nordic Tea",
        "Kyoto Ceramics",
        "Lisbon Tiles",
        "Oaxaca Weaves",
        "Riga Amber",
    ] {
        vendors.push(vendor(&service, shop, name).await);
    }
    // Five vendors upload at once: three images fit, whoever's they are.
    let put = |i: usize| put_image(&service, &vendors[i].1, vendors[i].0, "logo");
    let (a, b, c, d, e) = tokio::join!(put(0), put(1), put(2), put(3), put(4));
    let replies = [a, b, c, d, e];
    let accepted: Vec<usize> = (0..replies.len())
        .filter(|i| replies[*i].status == 200)
        .collect();
    assert_eq!(accepted.len(), 3, "{replies:?}");
    for refused in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(refused.status, 402, "{:?}", refused.body);
        assert_eq!(refused.str("code"), "plan_limit_exceeded");
    }
    assert_eq!(used(&service, shop).await, 3 * IMAGE as u64);
    let stored = service
        .state
        .storage
        .usage_of_areas(shop, STORAGE_AREAS)
        .await
        .unwrap();
    assert_eq!(stored, 3 * IMAGE as u64, "refused uploads leave nothing");

    // Another shop's vendors are not held back by this shop's files.
    let (theirs, their_owner) = vendor(&service, other, "Nordic Tea").await;
    for slot in ["logo", "banner"] {
        let reply = put_image(&service, &their_owner, theirs, slot).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    assert_eq!(used(&service, other).await, 2 * IMAGE as u64);

    // A vendor that removes its logo makes room for another vendor's banner.
    let waiting = (0..vendors.len()).find(|i| !accepted.contains(i)).unwrap();
    let (id, owner) = &vendors[waiting];
    assert_eq!(put_image(&service, owner, *id, "banner").await.status, 402);
    let (first, first_owner) = &vendors[accepted[0]];
    let removed = service
        .send(
            first_owner,
            "DELETE",
            &format!("/api/v1/vendors/{first}/images/logo"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(used(&service, shop).await, 2 * IMAGE as u64);
    let reply = put_image(&service, owner, *id, "banner").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    // Replacing an image gives the old one's bytes back once the new one is kept.
    let (second, second_owner) = &vendors[accepted[1]];
    assert_eq!(used(&service, shop).await, 3 * IMAGE as u64);
    assert_eq!(
        put_image(&service, second_owner, *second, "logo")
            .await
            .status,
        402,
        "the new logo does not fit next to the old one"
    );
    let removed = service
        .send(
            owner,
            "DELETE",
            &format!("/api/v1/vendors/{id}/images/banner"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    let replaced = put_image(&service, second_owner, *second, "logo").await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(used(&service, shop).await, 2 * IMAGE as u64);
    assert_eq!(used(&service, other).await, 2 * IMAGE as u64);
}

on_every_backend!(vendors_share_their_shops_limit_and_no_other);
