//! HTTP handlers and DTOs of the catalog service. Shoppers read `/api/v1/products` and
//! `/api/v1/categories`; vendor staff and merchant staff manage listings under
//! `/api/v1/catalog/…`; merchant staff own `/api/v1/categories` and `/api/v1/attributes`.

pub mod attributes;
pub mod body;
pub mod categories;
pub mod imports;
pub mod media;
pub mod out;
pub mod products;
pub mod public;
pub mod search;
pub mod settings;
pub mod variants;

use crate::CatalogState;
use crate::domain::product::Side;
use crate::domain::{Product, VendorMirror};
use crate::problems::CatalogProblem;
use crate::repo;
use axum::Router;
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use mercato_tenant_context::{
    Actor, Permission, ProductId, TenantContext, VendorAccess, VendorId, VendorPermission,
};

pub fn router() -> Router<CatalogState> {
    Router::new()
        .merge(public::router())
        .merge(products::router())
        .merge(variants::router())
        .merge(media::router())
        .merge(categories::router())
        .merge(attributes::router())
        .merge(settings::router())
        .merge(imports::router())
        .merge(search::router())
}

/// Whether the caller works for `vendor` with `permission`. The owner recorded on the
/// vendor counts even before their token carries the membership.
pub fn is_vendor_staff(
    ctx: &TenantContext,
    vendor: &VendorMirror,
    permission: VendorPermission,
) -> bool {
    ctx.can_for_vendor(vendor.id, permission) || ctx.actor == Actor::User(vendor.owner)
}

/// Management endpoints need a signed-in caller; strangers learn nothing beyond that.
pub fn signed_in(ctx: &TenantContext) -> Result<(), Problem> {
    if ctx.actor == Actor::Anonymous {
        Err(Problem::unauthorized("sign in to manage listings"))
    } else {
        Ok(())
    }
}

/// The vendor, for a listing change by merchant staff (`catalog:manage`) or by the vendor's
/// staff with `permission`. Anyone else: 404 (another shop's or vendor's things do not exist
/// for them); the vendor's staff without the permission: 403.
pub async fn vendor_for(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: VendorId,
    permission: VendorPermission,
) -> Result<(VendorMirror, Side), Problem> {
    signed_in(ctx)?;
    let vendor = repo::vendors::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if ctx.can(Permission::CatalogManage) {
        return Ok((vendor, Side::Merchant));
    }
    if is_vendor_staff(ctx, &vendor, permission) {
        return Ok((vendor, Side::Vendor));
    }
    if is_vendor_staff(ctx, &vendor, VendorPermission::Read) {
        return Err(Problem::forbidden(format!(
            "your vendor role does not grant `{}`",
            permission.name()
        )));
    }
    Err(Problem::not_found())
}

/// A product and its vendor, for the caller who may do `permission` on it (see [`vendor_for`]).
pub async fn product_for(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: ProductId,
    permission: VendorPermission,
) -> Result<(Product, VendorMirror, Side), Problem> {
    signed_in(ctx)?;
    let product = repo::products::find(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let (vendor, side) = vendor_for(tx, ctx, product.vendor, permission).await?;
    Ok((product, vendor, side))
}

/// Like [`product_for`] with `vendor.listings:write`, for a change: the product's row stays
/// locked until `tx` ends, so a merchant's approval and a vendor's edit of it never
/// interleave (see `repo::products::find_to_change`).
pub async fn product_to_change(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: ProductId,
) -> Result<(Product, VendorMirror, Side), Problem> {
    signed_in(ctx)?;
    let product = repo::products::find_to_change(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let (vendor, side) =
        vendor_for(tx, ctx, product.vendor, VendorPermission::ListingsWrite).await?;
    Ok((product, vendor, side))
}

/// Listings may be added or changed only while the vendor is not rejected or suspended.
pub fn require_listing(vendor: &VendorMirror) -> Result<(), Problem> {
    if vendor.may_list() {
        Ok(())
    } else {
        Err(Problem::of(
            CatalogProblem::VendorNotSelling,
            "the vendor is rejected or suspended; its listings cannot be changed",
        ))
    }
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

/// A write that hit a unique index: which one, as a 409 the client can act on.
pub fn conflict_of(error: sea_orm::DbErr, what: &'static str) -> Problem {
    if mercato_db::is_unique_violation(&error) {
        let text = error.to_string();
        if text.contains("sku") {
            Problem::of(
                CatalogProblem::SkuTaken,
                "another variant of this shop has this SKU",
            )
        } else if text.contains("slug") {
            Problem::of(
                CatalogProblem::SlugTaken,
                format!("another {what} of this shop has this slug"),
            )
        } else {
            Problem::of(
                CatalogProblem::Duplicate,
                format!("this {what} exists already"),
            )
        }
    } else {
        error.into()
    }
}
