//! Events the vendors service publishes, all version 1: `vendor.applied`,
//! `vendor.onboarding_started`, `vendor.submitted`, `vendor.changes_requested`,
//! `vendor.approved`, `vendor.rejected`, `vendor.suspended`, `vendor.reinstated` (the
//! lifecycle), `vendor.updated` (profile or holiday), `vendor.checklist_overridden`,
//! `commission_rule.created`, `commission_rule.deleted`, `payout_account.updated`.

use crate::domain::Vendor;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

pub use mercato_events::publish;

/// What every `vendor.*` event carries: enough for a consumer to mirror the vendor
/// (catalog hides the listings of vendors that are not approved, search shows the name).
#[derive(Serialize)]
struct VendorEvent<'a> {
    vendor_id: mercato_tenant_context::VendorId,
    slug: &'a str,
    store_name: &'a str,
    status: &'static str,
    owner_user_id: mercato_tenant_context::UserId,
    holiday_until: Option<chrono::NaiveDate>,
    reason: Option<&'a str>,
    actor: &'a str,
}

pub async fn vendor(
    conn: &impl ConnectionTrait,
    name: &str,
    vendor: &Vendor,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), DbErr> {
    let payload = VendorEvent {
        vendor_id: vendor.id,
        slug: &vendor.slug,
        store_name: &vendor.store_name,
        status: vendor.status.code(),
        owner_user_id: vendor.owner,
        holiday_until: vendor.holiday_until,
        reason,
        actor,
    };
    publish(conn, name, vendor.tenant, &payload).await
}
