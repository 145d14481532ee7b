//! Review after an edit: in a shop that moderates listings, an active product whose vendor's
//! staff change what shoppers see goes back to `pending_review` until merchant staff approve
//! it again (ADR 0026). The rule itself is [`Product::after_edit`]; this reads the shop's
//! setting for it.

use crate::domain::Product;
use crate::domain::product::{Edit, Side};
use crate::repo;
use mercato_db::TenantTx;
use sea_orm::DbErr;

/// Applies `edit` by `side` to `product` (read with `find_to_change`, not yet saved) and
/// returns whether it went back to review. The caller saves the product and publishes
/// `product.changed` in `tx`: that snapshot, no longer visible, is what takes the product
/// out of the public list, search and carts.
pub async fn after_edit(
    tx: &TenantTx,
    product: &mut Product,
    side: Side,
    edit: Edit,
) -> Result<bool, DbErr> {
    let settings = repo::settings::get(tx).await?;
    Ok(product.after_edit(edit, side, settings.require_listing_approval))
}
