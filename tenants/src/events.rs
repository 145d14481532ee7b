//! Events the tenants service publishes (all version 1): `shop.created`, `shop.updated`,
//! `shop.suspended`, `shop.reactivated`, `domain.added`, `domain.verified`, `domain.failed`,
//! `domain.removed`. They are written to the outbox in the transaction of the change.

use crate::domain::shop::Shop;
use crate::repo::domains::Domain;
use mercato_events::Envelope;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
// The payloads are the contract crate's, so consumers read them without depending on this
// service.
pub use mercato_tenants_api::{DomainChanged, ShopChanged, TENANT_EVENT_VERSION};

fn envelope(
    name: &str,
    tenant: mercato_tenant_context::TenantId,
    payload: &impl Serialize,
) -> Result<Envelope, DbErr> {
    Envelope::new(name, TENANT_EVENT_VERSION, tenant, payload)
        .map_err(|e| DbErr::Json(e.to_string()))
}

pub async fn shop(
    conn: &impl ConnectionTrait,
    name: &str,
    shop: &Shop,
    owner_email: Option<&str>,
) -> Result<(), DbErr> {
    let payload = ShopChanged {
        shop_id: shop.tenant,
        slug: shop.slug.clone(),
        status: shop.status.code().to_owned(),
        plan: shop.plan.code().to_owned(),
        owner_email: owner_email.map(str::to_owned),
    };
    mercato_events::enqueue(conn, &envelope(name, shop.tenant, &payload)?).await
}

pub async fn domain(conn: &impl ConnectionTrait, name: &str, domain: &Domain) -> Result<(), DbErr> {
    let payload = DomainChanged {
        shop_id: domain.tenant,
        domain_id: domain.id.to_string(),
        hostname: domain.hostname.clone(),
        status: domain.status.code().to_owned(),
    };
    mercato_events::enqueue(conn, &envelope(name, domain.tenant, &payload)?).await
}
