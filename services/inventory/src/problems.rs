//! The inventory service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

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
