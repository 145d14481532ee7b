//! HTTP handlers and DTOs of the vendors service.

pub mod checklist;
pub mod commission;
pub mod images;
pub mod lifecycle;
pub mod payout;
pub mod vendors;

use crate::domain::Vendor;
use crate::repo;
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use mercato_tenant_context::{
    Actor, Permission, TenantContext, VendorAccess, VendorId, VendorPermission,
};

/// How the caller stands to one vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Merchant staff who may change any vendor.
    Manager,
    /// Merchant staff who may see any vendor.
    Reader,
    /// Staff of this vendor (its owner included), allowed the permission asked for.
    Staff,
    /// Anyone else: sees approved vendors' public side only.
    Public,
}

/// Whether the caller works for `vendor` with `permission`. The owner recorded on the
/// vendor counts even before their token carries the membership (it arrives by event).
fn is_vendor_staff(ctx: &TenantContext, vendor: &Vendor, permission: VendorPermission) -> bool {
    ctx.can_for_vendor(vendor.id, permission) || ctx.actor == Actor::User(vendor.owner)
}

/// The vendor, if the caller may see it at all: another shop's or a hidden vendor is a 404.
pub async fn visible_vendor(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: VendorId,
) -> Result<(Vendor, Standing), Problem> {
    let vendor = repo::vendors::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let standing = if ctx.can(Permission::VendorsManage) {
        Standing::Manager
    } else if ctx.can(Permission::VendorsRead) {
        Standing::Reader
    } else if is_vendor_staff(ctx, &vendor, VendorPermission::Read) {
        Standing::Staff
    } else if vendor.is_public() {
        Standing::Public
    } else {
        return Err(Problem::not_found());
    };
    Ok((vendor, standing))
}

/// The vendor, for a change that merchant managers or the vendor's staff with `permission`
/// may make. Strangers get 404 (a vendor is not theirs to know of), the vendor's staff
/// without the permission 403.
pub async fn vendor_to_change(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: VendorId,
    permission: VendorPermission,
) -> Result<(Vendor, Standing), Problem> {
    let vendor = repo::vendors::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if ctx.can(Permission::VendorsManage) {
        return Ok((vendor, Standing::Manager));
    }
    if is_vendor_staff(ctx, &vendor, permission) {
        return Ok((vendor, Standing::Staff));
    }
    if is_vendor_staff(ctx, &vendor, VendorPermission::Read) || ctx.can(Permission::VendorsRead) {
        return Err(Problem::forbidden(format!(
            "your role does not grant `{}`",
            permission.name()
        )));
    }
    if ctx.actor == Actor::Anonymous && vendor.is_public() {
        return Err(Problem::unauthorized("sign in to do this"));
    }
    Err(Problem::not_found())
}

/// A reason a merchant gives: trimmed, 1-500 characters.
pub fn parse_reason(reason: Option<&str>, required: bool) -> Result<Option<String>, Problem> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if required => Err(Problem::invalid_field("/reason", "a reason is required")),
        Some(r) if r.chars().count() > 500 || r.chars().any(|c| c.is_control() && c != '\n') => {
            Err(Problem::invalid_field(
                "/reason",
                "at most 500 characters, no control characters",
            ))
        }
        other => Ok(other.map(str::to_owned)),
    }
}
