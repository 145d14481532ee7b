//! What inventory lets other crates depend on (ADR 0028): the payload of `stock.changed`, as
//! inventory publishes it and as a consumer reads it back; the reservation request and the
//! part of its answer a caller reads ([`reservations`]); and inventory's problem codes, which
//! a caller of its API matches on. No database, no HTTP server, no I/O: a consumer depends
//! on this crate, never on `mercato-inventory` itself.

use mercato_tenant_context::{ProductId, VariantId, VendorId};
use serde::{Deserialize, Serialize};

pub mod reservations;

mercato_kernel::typed_id!(
    /// Units held for a checkout until it is paid, cancelled or expires.
    pub ReservationId, "rsv"
);

mercato_kernel::problem_codes! {
    /// Every problem the inventory service gives besides the kernel's common ones.
    pub enum InventoryProblem in "inventory" {
        /// Another request with the same Idempotency-Key is being processed.
        ConcurrentRequest = (CONFLICT, "concurrent_request", "Conflict"),
        ReservationExpired = (CONFLICT, "reservation_expired", "Conflict"),
        VendorNotSelling = (CONFLICT, "vendor_not_selling", "Conflict"),
        VendorOnHoliday = (CONFLICT, "vendor_on_holiday", "Conflict"),
        StockBelowZero = (CONFLICT, "stock_below_zero", "Conflict"),
        StockReserved = (CONFLICT, "stock_reserved", "Conflict"),
        InsufficientStock = (CONFLICT, "insufficient_stock", "Conflict"),
        ReservationEnded = (CONFLICT, "reservation_ended", "Conflict"),
        DatabaseBusy = (SERVICE_UNAVAILABLE, "database_busy", "Unavailable"),
        WarehouseNameTaken = (CONFLICT, "warehouse_name_taken", "Conflict"),
        IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "Idempotency key reused"),
    }
}

/// A variant's totals over its vendor's warehouses changed.
pub const STOCK_CHANGED: &str = "stock.changed";
/// The version of the [`StockChanged`] payload.
pub const STOCK_CHANGED_VERSION: u32 = 1;

/// `stock.changed`: a variant's totals over its vendor's warehouses, after any change to
/// what can be sold. Committing a reservation lowers `on_hand` and `reserved` by the same
/// units and leaves `available` as it was, so it is announced by `reservation.committed`
/// alone; the totals of the next `stock.changed` include it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChanged {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub vendor_id: VendorId,
    pub sku: String,
    /// Units in the warehouses.
    pub on_hand: i64,
    /// Units held by reservations.
    pub reserved: i64,
    /// Units that can be sold now: `on_hand - reserved`.
    pub available: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_as_published() {
        let report = StockChanged {
            variant_id: VariantId::new(),
            product_id: ProductId::new(),
            vendor_id: VendorId::new(),
            sku: "SEN-1".into(),
            on_hand: 25,
            reserved: 3,
            available: 22,
        };
        let payload = serde_json::to_value(&report).unwrap();
        assert_eq!(payload["available"], 22);
        assert_eq!(
            serde_json::from_value::<StockChanged>(payload).unwrap(),
            report
        );
    }
}
