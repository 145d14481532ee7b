//! The inventory service's types and rules, free of HTTP and SQL: stock levels and the
//! adjustments that move them, low-stock crossings, warehouse allocation for reservations,
//! the reservation lifecycle and putting sold units back, and whether a vendor's stock may be
//! held at all.

pub mod reservation;
pub mod restock;
pub mod stock;
pub mod vendor;
pub mod warehouse;

mercato_kernel::typed_id!(
    /// A vendor's stock location.
    pub WarehouseId, "whs"
);
pub use mercato_inventory_api::ReservationId;
mercato_kernel::typed_id!(
    /// One recorded change of a stock level's on-hand quantity.
    pub AdjustmentId, "adj"
);

/// The most units one stock level may hold; keeps every sum far from overflow.
pub const MAX_ON_HAND: i64 = 1_000_000_000;

use mercato_tenant_context::{ProductId, VariantId, VendorId};

/// A variant as catalog last described it, with the low-stock settings its vendor keeps
/// here. Stock exists only for variants inventory knows of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: VariantId,
    pub product: ProductId,
    pub vendor: VendorId,
    pub sku: String,
    /// Gone from the catalog: no new stock or reservations; history stays.
    pub deleted: bool,
    pub low_stock_threshold: Option<i64>,
    /// Below the threshold since the last `stock.low` (re-armed when it rises again).
    pub low_stock: bool,
}
