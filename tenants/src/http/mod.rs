//! HTTP handlers and DTOs of the tenants service.

pub mod admin;
pub mod domains;
pub mod internal;
pub mod shop;

use crate::domain::plan::Limits;
use crate::domain::plan::Plan;
use crate::domain::shop::{Branding, Shop, ShopStatus};
use mercato_kernel::Currency;
use mercato_tenant_context::TenantId;
use serde::Serialize;
use std::collections::BTreeMap;

/// A shop as platform admins and its merchant see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShopOut {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: ShopStatus,
    pub status_reason: Option<String>,
    pub plan: Plan,
    pub limits: Limits,
    pub features: BTreeMap<String, bool>,
    pub default_currency: Currency,
    pub locale: String,
    pub timezone: String,
    pub branding: Branding,
    pub support_email: Option<String>,
    /// The host name every shop has at once: `<slug>.<platform domain>`.
    pub platform_hostname: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ShopOut {
    pub fn new(shop: Shop, platform_domain: &str) -> Self {
        Self {
            id: shop.tenant,
            platform_hostname: format!("{}.{platform_domain}", shop.slug),
            limits: shop.plan.limits(),
            features: shop.features(),
            slug: shop.slug,
            name: shop.name,
            status: shop.status,
            status_reason: shop.status_reason,
            plan: shop.plan,
            default_currency: shop.currency,
            locale: shop.locale,
            timezone: shop.timezone,
            branding: shop.branding,
            support_email: shop.support_email,
            created_at: shop.created_at,
            updated_at: shop.updated_at,
        }
    }
}
