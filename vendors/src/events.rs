//! Events the vendors service publishes, all version 1: `vendor.applied`,
//! `vendor.onboarding_started`, `vendor.submitted`, `vendor.changes_requested`,
//! `vendor.approved`, `vendor.rejected`, `vendor.suspended`, `vendor.reinstated` (the
//! lifecycle), `vendor.updated` (profile, shipping or holiday), `vendor.checklist_overridden`,
//! `commission_rule.created`, `commission_rule.deleted`, `payout_account.updated`, and, when
//! an operator asks ([`republish`]), `vendor.republished` and `commission_rule.republished`.
//!
//! Every `vendor.*` event made by [`vendor`] carries the contract's [`VendorSnapshot`]
//! `{ vendor_id, slug, store_name, status, owner_user_id, holiday_until, reason, actor,
//! shipping: { flat_rate, free_over }, legal: { legal_name, address, country, vat_id } }`
//! (money or null); `vendor.checklist_overridden` carries
//! `{ vendor_id, code, reason, actor }`. Both `commission_rule.*` events carry the whole rule and the actor: their
//! payloads are `mercato-vendors-api`'s ([`CommissionRuleEvent`] as published,
//! [`CommissionRuleSnapshot`] as read back into a [`CommissionRule`]).
//!
//! It consumes identity's `vendor_staff.removed` as [`STAFF_REMOVALS`]: when the applicant is
//! removed from their vendor, the vendor stops treating them as its owner.

use crate::domain::Vendor;
use crate::domain::commission::CommissionRule;
use mercato_db::RowLock;
use mercato_identity_api::{VENDOR_STAFF_REMOVED, VendorStaffRemoved};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbErr};

pub use mercato_events::publish;
// The `commission_rule.*` payloads are the contract crate's, so consumers read them without
// depending on this service.
pub use mercato_vendors_api::events::{
    COMMISSION_RULE_CREATED, COMMISSION_RULE_DELETED, COMMISSION_RULE_REPUBLISHED,
    CommissionRuleEvent, CommissionRuleSnapshot, InvalidSnapshot,
};
pub use mercato_vendors_api::vendor::{
    VENDOR_CHECKLIST_OVERRIDDEN, VENDOR_REPUBLISHED, VendorSnapshot,
};

/// Publishes `name` (a `vendor.*` lifecycle or profile event) with the vendor as it now is.
pub async fn vendor(
    conn: &impl ConnectionTrait,
    name: &str,
    vendor: &Vendor,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), DbErr> {
    let payload = VendorSnapshot {
        vendor_id: vendor.id,
        slug: vendor.slug.clone(),
        store_name: vendor.store_name.clone(),
        status: vendor.status,
        owner_user_id: vendor.owner,
        holiday_until: vendor.holiday_until,
        reason: reason.map(str::to_owned),
        actor: actor.to_owned(),
        shipping: vendor.shipping,
        legal: Some(vendor.legal()),
    };
    publish(conn, name, vendor.tenant, &payload).await
}

/// Publishes `name` (`commission_rule.created` or `.deleted`) for `rule`.
pub async fn commission_rule(
    conn: &impl ConnectionTrait,
    name: &str,
    tenant: TenantId,
    rule: &CommissionRule,
    actor: &str,
) -> Result<(), DbErr> {
    let deleted = name == COMMISSION_RULE_DELETED;
    publish(
        conn,
        name,
        tenant,
        &CommissionRuleEvent::new(rule, actor, deleted),
    )
    .await
}

/// Who republishes, in the events' `actor`.
const REPUBLISHER: &str = "republish";

/// Announces the current state of everything the vendors service owns in `tenant` again,
/// for consumers catching up (a new mirror, a table rebuilt): every vendor as
/// `vendor.republished` and every commission rule, deleted ones included, as
/// `commission_rule.republished`, in one transaction that holds the rows, so a change
/// committed meanwhile is announced after them. Returns how many events it wrote.
pub async fn republish(db: &mercato_db::Db, tenant: TenantId) -> Result<u64, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let mut count = 0;
    let mut after = None;
    loop {
        let page = crate::repo::vendors::list(&tx, &[], after, 500, RowLock::Shared).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for v in &page {
            vendor(&*tx, VENDOR_REPUBLISHED, v, None, REPUBLISHER).await?;
        }
        count += page.len() as u64;
    }
    for (rule, deleted) in crate::repo::commission::everything(&tx).await? {
        let event = CommissionRuleEvent::new(&rule, REPUBLISHER, deleted);
        publish(&*tx, COMMISSION_RULE_REPUBLISHED, tenant, &event).await?;
        count += 1;
    }
    tx.commit().await?;
    Ok(count)
}

/// The durable consumer that ends an applicant's standing when identity removes them.
pub const STAFF_REMOVALS: &str = "vendors-staff-removals";
pub const STAFF_REMOVALS_PATTERNS: &[&str] = &[VENDOR_STAFF_REMOVED];

pub struct StaffRemovals(pub crate::VendorsState);

#[async_trait::async_trait]
impl mercato_events::Handler for StaffRemovals {
    async fn handle(
        &self,
        event: &mercato_events::Envelope,
    ) -> Result<(), mercato_events::HandlerError> {
        let removed: VendorStaffRemoved = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if !mercato_events::mark_processed(&*tx, STAFF_REMOVALS, event).await? {
            return Ok(());
        }
        if let Some(mut found) = crate::repo::vendors::find(&tx, removed.vendor_id).await?
            && found.owner == removed.user_id
        {
            found.owner = Vendor::no_owner();
            found.updated_at = chrono::Utc::now();
            crate::repo::vendors::update(&tx, &found).await?;
            vendor(&*tx, "vendor.updated", &found, None, "identity").await?;
        }
        tx.commit().await?;
        self.0.outbox.notify_one();
        Ok(())
    }
}
