//! Events the tenants service publishes (all version 1): `shop.created`, `shop.updated`,
//! `shop.suspended`, `shop.reactivated`, `domain.added`, `domain.verified`, `domain.failed`,
//! `domain.removed`. They are written to the outbox in the transaction of the change.

use crate::domain::shop::Shop;
use crate::repo::domains::Domain;
use mercato_events::Envelope;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

#[derive(Serialize)]
pub struct ShopEvent<'a> {
    pub shop_id: mercato_tenant_context::TenantId,
    pub slug: &'a str,
    pub status: &'a str,
    pub plan: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<&'a str>,
}

#[derive(Serialize)]
pub struct DomainEvent<'a> {
    pub shop_id: mercato_tenant_context::TenantId,
    pub domain_id: crate::repo::domains::DomainId,
    pub hostname: &'a str,
    pub status: &'a str,
}

fn envelope(
    name: &str,
    tenant: mercato_tenant_context::TenantId,
    payload: &impl Serialize,
) -> Result<Envelope, DbErr> {
    Envelope::new(name, 1, tenant, payload).map_err(|e| DbErr::Json(e.to_string()))
}

pub async fn shop(
    conn: &impl ConnectionTrait,
    name: &str,
    shop: &Shop,
    owner_email: Option<&str>,
) -> Result<(), DbErr> {
    let payload = ShopEvent {
        shop_id: shop.tenant,
        slug: &shop.slug,
        status: shop.status.code(),
        plan: shop.plan.code(),
        owner_email,
    };
    mercato_events::enqueue(conn, &envelope(name, shop.tenant, &payload)?).await
}

pub async fn domain(conn: &impl ConnectionTrait, name: &str, domain: &Domain) -> Result<(), DbErr> {
    let payload = DomainEvent {
        shop_id: domain.tenant,
        domain_id: domain.id,
        hostname: &domain.hostname,
        status: domain.status.code(),
    };
    mercato_events::enqueue(conn, &envelope(name, domain.tenant, &payload)?).await
}
